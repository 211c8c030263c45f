"""Command-line words that name something other than a flow: a matrix port (`80/TCP`). The
parser raises `InputError` naming the option and the word it was given."""

from netverify.loading.validation import port_number_error
from netverify.model import PROTOCOLS, Diagnostic, InputError, Protocol, Severity
from netverify.model.matrix import MatrixPort


def _fail(message: str) -> InputError:
    return InputError([Diagnostic(severity=Severity.ERROR, message=message)])


def parse_matrix_port(text: str) -> MatrixPort:
    """`80`, `80/TCP`, `53/UDP`; raises `InputError` otherwise."""
    number, _, protocol = text.partition("/")
    protocol = protocol or Protocol.TCP.value
    if (
        not number.isdigit()
        or port_number_error(int(number)) is not None
        or protocol not in PROTOCOLS
    ):
        raise _fail(
            f"--port {text!r}: expected PORT[/PROTOCOL], e.g. 80/TCP or 53/UDP "
            "(a number from 1 to 65535; TCP, UDP or SCTP in capitals)"
        )
    return MatrixPort(protocol=Protocol(protocol), port=int(number))
