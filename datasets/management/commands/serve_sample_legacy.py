"""Serve the bundled sample legacy OpenSpending instance in the foreground, for the demo and manual checks."""

import threading
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from datasets.sample_legacy import PRIVATE_DATASET, SampleLegacyServer, sample_accounts


class Command(BaseCommand):
    help = "Serve the sample legacy OpenSpending instance (datasets/sample_legacy/instance) until Ctrl-C."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8765, help="port to listen on; 0 picks a free one")

    def handle(self, *args: Any, **options: Any) -> None:
        server = SampleLegacyServer(host=options["host"], port=options["port"])
        try:
            server.start()
        except OSError as error:
            raise CommandError(f"cannot listen on {options['host']}:{options['port']}: {error.strerror}") from error
        self.stdout.write(f"Sample legacy OpenSpending at {server.base_url}  (Ctrl-C stops it)")
        self.stdout.write(f"API keys (header 'Authorization: ApiKey <key>'); {PRIVATE_DATASET} is private:")
        for account in sample_accounts():
            role = "admin" if account.admin else ""
            self.stdout.write(f"  {account.name:<12} {role:<6} {account.api_key}")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")
        finally:
            server.stop()
