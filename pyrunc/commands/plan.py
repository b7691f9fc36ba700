"""`plan [--bundle DIR]`: print, in order, the kernel operations `create` would perform."""

import os

from pyrunc import plan


def run(inv):
    os.write(1, plan.render(plan.build(inv.flags.get("bundle", ""))).encode())
    return 0
