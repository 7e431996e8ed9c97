"""The command lines given a user's mistake: one line naming it, exit status 2,
before any work is done."""
import subprocess
import sys

from cnet.cli import main


def test_bench_out_that_is_a_file_is_refused_before_running(tmp_path, capsys):
    """--out naming an existing file failed with a traceback (exit 1) after
    the whole benchmark had run."""
    target = tmp_path / "results.txt"
    target.write_text("not a folder")
    try:
        status = main(["bench", "--only", "functions", "--no-torch", "--out", str(target)])
    except SystemExit as exc:
        status = exc.code
    out, err = capsys.readouterr()
    assert status == 2
    assert "--out: %s exists and is not a folder" % target in err
    assert "functions" not in out  # nothing ran
    assert target.read_text() == "not a folder"


def test_compat_names_a_folder_given_as_the_script(tmp_path):
    (tmp_path / "ch04").mkdir()
    res = subprocess.run([sys.executable, "-m", "cnet.compat", "ch04"], cwd=str(tmp_path),
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 2
    assert "python -m cnet.compat: error: ch04 is a folder, not a script" in res.stderr
