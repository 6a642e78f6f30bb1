"""A deliberately slow, read-only command: starts a helper process (a grandchild of whoever runs
manage.py), records both process ids, then waits. The inspector's tests use it as an operator
preset with a short timeout to check that the whole process group is killed."""
import os
import subprocess
import sys
import time

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Sleep for a while with a helper process; for timeout tests."

    def add_arguments(self, parser):
        parser.add_argument("--pid-file", default="")
        parser.add_argument("--seconds", type=float, default=300)

    def handle(self, *args, **options):
        helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(%f)" % options["seconds"]])
        if options["pid_file"]:
            with open(options["pid_file"] + ".tmp", "w") as f:
                f.write("%d %d\n" % (os.getpid(), helper.pid))
            os.replace(options["pid_file"] + ".tmp", options["pid_file"])
        self.stdout.write("probe started; helper %d" % helper.pid)
        self.stdout.flush()
        time.sleep(options["seconds"])
        helper.wait()
