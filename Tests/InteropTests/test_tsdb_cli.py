"""`osprey tsdb list|dump` against Debian's promtool on blocks promtool itself wrote."""
import math
import os
import subprocess

from conftest import osprey_binary


def backfill(workdir):
    data = os.path.join(workdir, "data")
    os.makedirs(os.path.join(data, "wal"))
    lines = ["# TYPE requests_total counter", "# TYPE level gauge"]
    for i in range(4):
        for s in range(0, 5 * 3600, 60):
            lines.append('requests_total{instance="i%d"} %d %d' % (i, s * (i + 1), 1700000000 + s))
            value = math.sin(s / 997.0) * 10 ** (i * 3) if i % 2 else s / 7.0
            lines.append('level{instance="i%d"} %r %d' % (i, value, 1700000000 + s))
    lines.append("# EOF")
    source = os.path.join(workdir, "input.om")
    with open(source, "w") as f:
        f.write("\n".join(lines) + "\n")
    subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", source, data], check=True, capture_output=True)
    return data


def run(*args):
    return subprocess.run(list(args), check=True, capture_output=True, text=True).stdout


def test_dump_prints_exactly_what_promtool_prints(workdir):
    data = backfill(workdir)
    promtool = sorted(run("promtool", "tsdb", "dump", data).splitlines())
    osprey = sorted(run(osprey_binary(), "tsdb", "dump", data).splitlines())
    assert len(promtool) == 4 * 2 * 300
    assert osprey == promtool
    matched = run(osprey_binary(), "tsdb", "dump", "--match", 'level{instance="i1"}', "--min-time", "1700003600000", data).splitlines()
    assert sorted(matched) == [line for line in promtool if line.startswith('{__name__="level", instance="i1"}') and int(line.split()[-1]) >= 1700003600000]


def test_list_shows_the_blocks_promtool_shows(workdir):
    data = backfill(workdir)
    def rows(text):
        return [line.split()[:3] + line.split()[-4:] for line in text.splitlines()[1:]]
    assert rows(run(osprey_binary(), "tsdb", "list", data)) == rows(run("promtool", "tsdb", "list", data))


def test_a_missing_directory_is_a_clear_error(workdir):
    result = subprocess.run([osprey_binary(), "tsdb", "list", os.path.join(workdir, "nope")], capture_output=True, text=True)
    assert result.returncode != 0
    assert "does not exist" in result.stderr


def test_analyze_counts_what_promtool_counts(workdir):
    data = backfill(workdir)
    def counts(text):
        return [line for line in text.splitlines()[:6] if not line.startswith("Duration")]
    newest = run("promtool", "tsdb", "list", data).splitlines()[-1].split()[0]
    assert counts(run(osprey_binary(), "tsdb", "analyze", data)) == counts(run("promtool", "tsdb", "analyze", data, newest))
    assert "Highest cardinality metric names:" in run(osprey_binary(), "tsdb", "analyze", data, newest)


def sections(text):
    """Analyze output as {title: sorted lines} (ties are listed in no fixed order)."""
    out, title = {}, "header"
    for line in text.splitlines():
        if line.endswith(":") and not line[0].isdigit():
            title = line
        elif line and not line.startswith("Duration"):
            out.setdefault(title, []).append(line)
    return {k: sorted(v) for k, v in out.items()}


def test_analyze_lists_churn_and_cardinality_as_promtool_does(workdir):
    # One 2 h block: pods that come and go, so series cover different parts of the range.
    data = os.path.join(workdir, "churn")
    os.makedirs(os.path.join(data, "wal"))
    base = 1700000000 - 1700000000 % 7200
    lines = ["# TYPE churn_requests counter"]
    for s in range(0, 7200, 60):
        for pod in range(6):
            if pod * 1200 <= s < pod * 1200 + 2400 or pod == 0:
                lines.append('churn_requests_total{pod="pod-%d",deployment="web-%s"} %d %d' % (pod, "abc"[pod % 3], s, base + s))
    lines.append("# EOF")
    source = os.path.join(workdir, "churn.om")
    with open(source, "w") as f:
        f.write("\n".join(lines) + "\n")
    subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", source, data], check=True, capture_output=True)
    osprey = sections(run(osprey_binary(), "tsdb", "analyze", data))
    promtool = sections(run("promtool", "tsdb", "analyze", data))
    assert osprey == promtool
    assert "Label pairs most involved in churning:" in osprey
