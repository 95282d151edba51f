"""Runs one test file with unittest for ctest: `run.py path/to/test_x.py`.

Exit status: 0 all passed, 1 a failure or error, 77 every test skipped
(ctest's SKIP_RETURN_CODE: the environment of ops/test is absent)."""

import os
import sys
import unittest


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: run.py TEST_FILE.py\n")
        return 2
    path = os.path.abspath(sys.argv[1])
    here = os.path.dirname(os.path.abspath(__file__))
    for d in (os.path.dirname(path), here):
        if d not in sys.path:
            sys.path.insert(0, d)
    name = os.path.splitext(os.path.basename(path))[0]
    suite = unittest.defaultTestLoader.loadTestsFromName(name)
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    sys.stdout.flush()
    if not result.wasSuccessful():
        return 1
    # A setUpClass that skips runs no test but records one skip.
    ran = result.testsRun - len([t for t, _ in result.skipped if isinstance(t, unittest.TestCase)])
    if result.skipped and ran <= 0:
        return 77
    return 0


if __name__ == "__main__":
    sys.exit(main())
