from tcp_observatory.tui.bounded import keep


def test_keep_drops_the_oldest_once_full() -> None:
    items: list[int] = []
    for i in range(1000):
        keep(items, [i], 100)
        assert len(items) <= 100
    assert items[-1] == 999 and items == sorted(items)
    keep(items, range(1000, 1500), 100)
    assert len(items) == 100 and items[-1] == 1499
