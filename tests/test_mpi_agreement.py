"""PH on MPI ranks: decisions taken from a rank's own clock are agreed before a collective."""

from __future__ import annotations

from procure.stochastic.mpisppy_ph import together


def test_ranks_agree_before_a_collective() -> None:
    """`together` gives every rank of a cylinder the first rank's answer (a rank whose own clock
    says otherwise follows it), and a one-rank cylinder its own."""

    class Comm:
        def __init__(self, size: int, root_says: bool) -> None:
            self.size, self.root_says, self.calls = size, root_says, 0

        def Get_size(self) -> int:
            return self.size

        def bcast(self, value: bool, root: int = 0) -> bool:
            self.calls += 1
            return self.root_says

    class Opt:
        def __init__(self, comm: Comm) -> None:
            self.mpicomm = comm

    two = Comm(2, root_says=True)
    assert together(Opt(two), False) is True and two.calls == 1  # this rank thought otherwise
    one = Comm(1, root_says=True)
    assert together(Opt(one), False) is False and one.calls == 0
    assert together(object(), True) is True  # no communicator: serial PH
