"""The functions workload of cnet bench: it checks results, times cnet beside a
copy of the same bytes, and reports rates (no timings are asserted)."""
import numpy as np

from cnet.benchmark import functions_bench as FB


def test_traffic_counts_inputs_read_and_outputs_written():
    x = np.zeros(1000)
    assert FB.traffic_bytes("sigmoid", (x,)) == 16000
    assert FB.traffic_bytes("sum_squared_error", (x, x)) == 16000
    assert FB.traffic_bytes("softmax_loss", (x.reshape(100, 10), np.zeros(100, np.int64))) == 8800
    assert FB.traffic_bytes("cross_entropy_error",
                            (x.reshape(100, 10), np.zeros(100, np.int64))) == 100 * 64 + 800


def test_run_gives_rows_with_rates_and_a_table():
    rows = FB.run(None, dtypes=("float32",), names=("relu", "softmax_loss"), rounds=1,
                  reference=False)
    assert {r["impl"] for r in rows} == {"cnet", "copy"}
    for r in rows:
        assert r["seconds"] > 0 and r["gbps"] > 0 and r["copy_gbps"] > 0
    text = FB.table(rows)
    assert "| relu | float32 |" in text and "| softmax_loss | float32 |" in text
