"""
Runs one Eclipse Paho interoperability suite file, unmodified, against a broker
on 127.0.0.1:<port> and prints one JSON line of results.

client_test.py parses -p itself but then hands the same argv to unittest.main,
which refuses it; this driver gives the suite its port through its own getopt
and unittest only the test names. The suite is imported from where it was
cloned (outside this repository): nothing of it is copied here.

  python3 driver.py <suite.py> <port> [Test.test_name ...]
"""
import json, os, re, runpy, sys, traceback, unittest

script, port, names = sys.argv[1], sys.argv[2], sys.argv[3:]
sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
real_main = unittest.main
outcome = {}


class Tee:
    """stderr as the suite writes it, also kept per test: its tests catch their own
    assertion, print the traceback and then fail with `False != True`."""
    def __init__(self, out):
        self.out, self.text = out, []

    def write(self, s):
        self.text.append(s)
        return self.out.write(s)

    def flush(self):
        self.out.flush()


tee = Tee(sys.stderr)
sys.stderr = tee
EXCEPTION = re.compile(r'^\w*(Error|Exception)\b.*', re.M)


def last_line(err):
    text = ''.join(traceback.format_exception(*err)).strip().splitlines()
    why = text[-1] if text else ''
    printed = [m.group(0) for m in EXCEPTION.finditer(''.join(tee.text))]
    if printed and 'False != True' in why:
        why = printed[0]
    return why[:300]


class Recorder(unittest.TextTestResult):
    def startTest(self, test):
        tee.text = []
        super().startTest(test)

    def addSuccess(self, test):
        super().addSuccess(test)
        outcome[test.id().split('.')[-1]] = {'result': 'pass'}

    def addFailure(self, test, err):
        super().addFailure(test, err)
        outcome[test.id().split('.')[-1]] = {'result': 'fail', 'why': last_line(err)}

    def addError(self, test, err):
        super().addError(test, err)
        if isinstance(test, unittest.TestCase):
            outcome[test.id().split('.')[-1]] = {'result': 'error', 'why': last_line(err)}
        else:  # setUpClass failed (e.g. the broker refused the suite's clean-up connection): every test of the run fails with it
            outcome['_setup'] = {'result': 'error', 'why': 'setUpClass: ' + last_line(err)}


def main(*args, **kwargs):
    runner = unittest.TextTestRunner(resultclass=Recorder, verbosity=2)
    real_main(*args, argv=[script, *names], testRunner=runner, exit=False, **kwargs)
    print('PAHO_RESULT ' + json.dumps(outcome), flush=True)
    os._exit(0)  # the suite's clients leave non-daemon receiver threads behind


unittest.main = main
sys.argv = [script, '-p', port]
runpy.run_path(script, run_name='__main__')
