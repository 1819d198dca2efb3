"""bench/run.py's "test command" row reads the whole suite's last run, as
the test session recorded it, and judges it against 6 minutes."""

import json

from bench import run


def test_the_bench_prints_the_last_whole_run_with_its_verdict(tmp_path, monkeypatch, capsys):
    record = tmp_path / "test-run.json"
    monkeypatch.setattr(run, "TEST_RUN_RECORD", str(record))
    base = {"tests": 1654, "failed": 0, "workers": 2, "exit_status": 0, "finished": "x"}

    record.write_text(json.dumps({**base, "seconds": 354.2}))
    run.print_test_command()
    assert "1654 tests on 2 workers, passed, 354 s (target < 360 s and green: PASS)" in (
        capsys.readouterr().out
    )

    record.write_text(json.dumps({**base, "seconds": 371.0}))
    run.print_test_command()
    assert "371 s (target < 360 s and green: MISS)" in capsys.readouterr().out

    record.write_text(json.dumps({**base, "seconds": 300.0, "failed": 2, "exit_status": 1}))
    run.print_test_command()
    assert "2 failed, 300 s (target < 360 s and green: MISS)" in capsys.readouterr().out

    record.unlink()
    run.print_test_command()
    assert "not measured" in capsys.readouterr().out
