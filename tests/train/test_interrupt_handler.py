import os
import signal

import pytest

from pyg_simce.train.interrupt_handler import InterruptHandler


@pytest.fixture
def restore_sigint():
    previous = signal.getsignal(signal.SIGINT)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.parametrize('previous', [signal.default_int_handler,
                                      signal.SIG_IGN])
def test_first_ctrl_c_requests_a_stop_and_exit_restores(
        restore_sigint, previous):
    signal.signal(signal.SIGINT, previous)
    with InterruptHandler() as handler:
        assert not handler.requested
        os.kill(os.getpid(), signal.SIGINT)
        assert handler.requested
    # Python's default, or 'ignore' in a job started in the background by a
    # shell: whichever it was handles SIGINT again.
    assert signal.getsignal(signal.SIGINT) is previous


def test_second_ctrl_c_interrupts_at_once(restore_sigint):
    signal.signal(signal.SIGINT, signal.default_int_handler)
    with pytest.raises(KeyboardInterrupt):
        with InterruptHandler():
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_request_without_a_signal(restore_sigint):
    with InterruptHandler() as handler:
        handler.request()
        assert handler.requested
