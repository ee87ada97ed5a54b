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


def write_input(workdir, name, lines):
    path = os.path.join(workdir, name)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def rich_input(workdir):
    """Five hours of counters, gauges, a histogram with exemplars and `_created`, an escaped
    label value and fractional-second timestamps (which promtool truncates to milliseconds)."""
    base = 1700000000
    lines = ["# HELP http_requests Requests served.", "# TYPE http_requests counter"]
    for s in range(0, 5 * 3600, 30):
        for code in ("200", "500"):
            lines.append('http_requests_total{code="%s",path="/a\\"b\\\\c\\n"} %d %d.%s # {trace_id="abc%d"} 1 %d'
                         % (code, s * (3 if code == "200" else 1), base + s, "123" if s % 60 else "5", s, base + s))
        lines.append('http_requests_created{code="200",path="/a\\"b\\\\c\\n"} %d %d' % (base, base + s))
    lines += ["# TYPE latency_seconds histogram", "# UNIT latency_seconds seconds"]
    for s in range(0, 5 * 3600, 60):
        total = 0
        for le in ("0.1", "0.5", "+Inf"):
            total += s // 60 + 1
            lines.append('latency_seconds_bucket{le="%s"} %d %d.789' % (le, total, base + s))
        lines.append("latency_seconds_sum %r %d.789" % (total * 0.2137, base + s))
        lines.append("latency_seconds_count %d %d.789" % (total, base + s))
    lines.append("# TYPE temperature gauge")
    for s in range(0, 5 * 3600, 15):
        lines.append("temperature %r %d.001" % (20 + math.sin(s / 3000.0) * 3.3, base + s))
    lines.append("# EOF")
    return write_input(workdir, "rich.om", lines)


def test_create_blocks_from_openmetrics_writes_what_promtool_writes(workdir):
    source = rich_input(workdir)
    theirs, ours = os.path.join(workdir, "promtool"), os.path.join(workdir, "osprey")
    subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", source, theirs], check=True, capture_output=True)
    printed = run(osprey_binary(), "tsdb", "create-blocks-from", "openmetrics", source, ours)
    for directory in (theirs, ours):  # promtool tsdb dump reads DIR/wal too
        os.makedirs(os.path.join(directory, "wal"))
    expected = sorted(run("promtool", "tsdb", "dump", theirs).splitlines())
    assert len(expected) == 600 * 3 + 300 * 5 + 1200
    assert sorted(run("promtool", "tsdb", "dump", ours).splitlines()) == expected
    assert sorted(run(osprey_binary(), "tsdb", "dump", ours).splitlines()) == expected

    def rows(text):  # min time, max time, samples and series (chunk cutting may differ)
        return sorted(tuple(line.split()[i] for i in (1, 2, 4, 6)) for line in text.splitlines()[1:])
    assert rows(run("promtool", "tsdb", "list", ours)) == rows(run("promtool", "tsdb", "list", theirs))
    assert rows(printed) == rows(run("promtool", "tsdb", "list", theirs))
    assert printed.splitlines()[0].split()[:2] == ["BLOCK", "ULID"]
    assert not [name for name in os.listdir(ours) if "tmp" in name]


def test_create_blocks_rounds_the_maximum_block_duration_as_promtool_does(workdir):
    lines = ["# TYPE g gauge"] + ["g %d %d" % (s, 1700000000 + s) for s in range(0, 20 * 3600, 300)] + ["# EOF"]
    source = write_input(workdir, "long.om", lines)
    theirs, ours = os.path.join(workdir, "promtool"), os.path.join(workdir, "osprey")
    subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=7h", source, theirs], check=True, capture_output=True)
    run(osprey_binary(), "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration", "7h", "--quiet", source, ours)
    for directory in (theirs, ours):
        os.makedirs(os.path.join(directory, "wal"))

    def spans(directory):
        return sorted(tuple(line.split()[1:3]) for line in run("promtool", "tsdb", "list", directory).splitlines()[1:])
    assert spans(ours) == spans(theirs)
    assert len(spans(ours)) == 5  # 6 h ranges, the first and last partly filled
    assert sorted(run("promtool", "tsdb", "dump", ours).splitlines()) == sorted(run("promtool", "tsdb", "dump", theirs).splitlines())


def test_create_blocks_names_the_bad_line_and_writes_nothing(workdir):
    good = ["# TYPE g gauge", 'g{a="1"} 1 1700000000', 'g{a="1"} 2 1700000015']
    cases = {
        "no timestamp": (good + ['g{a="2"} 3', "# EOF"], 4, "timestamp"),
        "bad value": (good + ['g{a="2"} one 1700000000', "# EOF"], 4, ""),
        "bad label": (good + ['g{a="2} 1 1700000000', "# EOF"], 4, ""),
        "out of order": (good + ['g{a="2"} 1 1700000000', 'g{a="1"} 3 1700000010', "# EOF"], 5, "out of order"),
        "duplicate": (good + ['g{a="2"} 1 1700000000', 'g{a="1"} 3 1700000015', "# EOF"], 5, "duplicate"),
        "no eof": (good + ['g{a="2"} 1 1700000000'], None, "EOF"),
    }
    for name, (lines, line, words) in cases.items():
        source = write_input(workdir, name.replace(" ", "-") + ".om", lines)
        out = os.path.join(workdir, name.replace(" ", "-"))
        result = subprocess.run([osprey_binary(), "tsdb", "create-blocks-from", "openmetrics", source, out], capture_output=True, text=True)
        assert result.returncode != 0, name
        assert ("%s:%d:" % (source, line) if line else source + ":") in result.stderr, (name, result.stderr)
        assert words in result.stderr, (name, result.stderr)
        assert not os.path.exists(out) or os.listdir(out) == [], (name, os.listdir(out))
    # An equal timestamp with an equal value is dropped, as Prometheus' head drops it.
    source = write_input(workdir, "repeat.om", good + ['g{a="1"} 2 1700000015', "# EOF"])
    run(osprey_binary(), "tsdb", "create-blocks-from", "openmetrics", "--quiet", source, os.path.join(workdir, "repeat"))
    assert len(run(osprey_binary(), "tsdb", "dump", os.path.join(workdir, "repeat")).splitlines()) == 2


def test_create_blocks_draws_a_progress_bar_on_a_terminal(workdir):
    import pty
    source = rich_input(workdir)
    controller, terminal = pty.openpty()
    process = subprocess.Popen([osprey_binary(), "tsdb", "create-blocks-from", "openmetrics", source, os.path.join(workdir, "out")],
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=terminal)
    os.close(terminal)
    drawn = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:
            break
        if not chunk:
            break
        drawn += chunk
    stdout = process.communicate(timeout=120)[0].decode()
    os.close(controller)
    assert process.returncode == 0
    assert b"100%" in drawn and b"[###" in drawn and b"writing blocks" in drawn
    assert stdout.startswith("BLOCK ULID")
    # Not on a pipe: standard error stays empty.
    result = subprocess.run([osprey_binary(), "tsdb", "create-blocks-from", "openmetrics", source, os.path.join(workdir, "piped")], capture_output=True, text=True)
    assert result.returncode == 0 and result.stderr == ""
