// The release version, shown by --version and in the welcome line.

/** linechat's version. */
export const VERSION = "0.1.0";
