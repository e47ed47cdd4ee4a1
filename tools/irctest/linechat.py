"""irctest controller for linechat's IRC door (tools/irctest/README: how to run it).

Copy this file into an irctest checkout as irctest/controllers/linechat.py and set
LINECHAT_DIR to the linechat checkout (default: the current directory).
"""

import os
import shutil
from typing import Optional, Set, Type

from irctest.basecontrollers import BaseServerController, DirectoryBasedController
from irctest.runner import NotImplementedByController


class LinechatController(BaseServerController, DirectoryBasedController):
    software_name = "linechat"
    supported_sasl_mechanisms: Set[str] = set()
    supports_sts = False

    def run(
        self,
        hostname: str,
        port: int,
        *,
        password: Optional[str],
        ssl: bool,
        run_services: bool,
        faketime: Optional[str],
        websocket_hostname: Optional[str],
        websocket_port: Optional[int],
    ) -> None:
        if websocket_hostname is not None or websocket_port is not None:
            raise NotImplementedByController("Websocket")
        if run_services:
            raise NotImplementedByController("Services")
        assert self.proc is None
        self.port = port
        self.hostname = hostname
        self.create_config()
        (_, chat_port) = self.get_hostname_and_port()
        linechat = os.environ.get("LINECHAT_DIR", os.getcwd())
        args = [
            "deno", "run", "--allow-net", "--allow-read", "--allow-write",
            "--allow-env=LINECHAT_PASSWORD,LINECHAT_OP_PASSWORD",
            os.path.join(linechat, "server.ts"),
            # irctest hands out 0.0.0.0; loopback is enough for its clients.
            "--host", "127.0.0.1",
            "--port", str(chat_port),
            "--irc-name", "My.Little.Server",
            "--op-password", "operpassword",
        ]
        if ssl:
            self.gen_ssl()
            args += ["--tls-cert", str(self.pem_path), "--tls-key", str(self.key_path),
                     "--irc-tls-port", str(port)]
        else:
            args += ["--irc-port", str(port)]
        if password is not None:
            args += ["--password", password]
        self.proc = self.execute(args)


def get_irctest_controller_class() -> Type[LinechatController]:
    return LinechatController
