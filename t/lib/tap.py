"""The smallest TAP producer for integration tests run by prove."""
import sys
import traceback

_n = 0
_failed = 0


def ok(cond, name):
    global _n, _failed
    _n += 1
    print(("ok" if cond else "not ok") + " %d - %s" % (_n, name), flush=True)
    if not cond:
        _failed += 1
        frame = traceback.extract_stack()[-2]
        print("#   Failed test '%s'\n#   at %s line %d." %
              (name, frame.filename, frame.lineno), flush=True)
    return cond


def is_(got, want, name):
    r = ok(got == want, name)
    if not r:
        print("#          got: %r\n#     expected: %r" % (got, want))
    return r


def diag(msg):
    for line in str(msg).splitlines():
        print("# " + line, flush=True)


def skip_all(why):
    print("1..0 # SKIP " + why, flush=True)
    sys.exit(0)


def done():
    print("1..%d" % _n, flush=True)
    sys.exit(1 if _failed else 0)
