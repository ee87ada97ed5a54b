"""kill -9 during ingest loses no acknowledged sample; a torn WAL tail is repaired at start."""
import glob
import os
import threading
import time

from helpers import remote_read, remote_write


def test_every_acknowledged_sample_survives_kill9(start_osprey, workdir):
    data_dir = os.path.join(workdir, "crash-data")
    osprey = start_osprey(data_dir=data_dir)
    acknowledged = {}
    stop = threading.Event()
    t0 = int(time.time() * 1000) - 3_600_000

    def writer(worker):
        i = 0
        while not stop.is_set() and i < 5000:
            batch = [({"__name__": "crash_test", "worker": str(worker), "series": str(s)}, [(t0 + i * 10, float(i))])
                     for s in range(20)]
            try:
                response = remote_write(osprey.url, batch)
            except Exception:
                return
            if response.status_code != 204:
                return
            for labels, samples in batch:
                acknowledged.setdefault((worker, labels["series"]), []).append(samples[0][0])
            i += 1

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    while sum(len(v) for v in acknowledged.values()) < 4000 and time.monotonic() < deadline:
        time.sleep(0.05)
    osprey.kill9()
    stop.set()
    for thread in threads:
        thread.join()
    assert acknowledged, "no write was acknowledged before the kill"

    restarted = start_osprey(data_dir=data_dir)
    read = remote_read(restarted.url, t0 - 1, t0 + 10_000_000, [(0, "__name__", "crash_test")])
    stored = {(dict(k)["worker"], dict(k)["series"]): {t for t, _ in v} for k, v in read.items()}
    for (worker, series_id), times in acknowledged.items():
        missing = set(times) - stored.get((str(worker), series_id), set())
        assert not missing, "worker %s series %s lost %d acknowledged samples" % (worker, series_id, len(missing))
    assert "WAL replay" in restarted.log()


def test_torn_wal_tail_is_truncated_not_fatal(start_osprey, workdir):
    data_dir = os.path.join(workdir, "torn-data")
    osprey = start_osprey(data_dir=data_dir)
    t0 = int(time.time() * 1000)
    for i in range(50):
        assert remote_write(osprey.url, [({"__name__": "torn", "i": str(i % 5)}, [(t0 + i, float(i))])]).status_code == 204
    osprey.kill9()
    segments = sorted(p for p in glob.glob(os.path.join(data_dir, "wal", "*")) if os.path.basename(p).isdigit())
    last = max((p for p in segments if os.path.getsize(p) > 0), key=lambda p: int(os.path.basename(p)))
    size = os.path.getsize(last)
    with open(last, "r+b") as f:  # corrupt the last record's payload and append garbage
        f.seek(size - 3)
        f.write(b"\xde\xad\xbe")
        f.write(b"\x01\x02garbage")

    restarted = start_osprey(data_dir=data_dir)
    read = remote_read(restarted.url, t0 - 1, t0 + 100, [(0, "__name__", "torn")])
    count = sum(len(v) for v in read.values())
    assert 40 <= count < 50, count
    log = restarted.log()
    assert "corrupt" in log.lower() or "torn" in log.lower() or "truncat" in log.lower(), log


def test_a_second_process_cannot_open_a_data_directory_in_use(start_osprey, workdir):
    import subprocess

    from conftest import free_port, osprey_binary
    data_dir = os.path.join(workdir, "locked")
    start_osprey(data_dir=data_dir)
    second = subprocess.run([osprey_binary(), "serve", "--storage.path", data_dir,
                             "--web.listen-address", "127.0.0.1:%d" % free_port()],
                            capture_output=True, text=True, timeout=60)
    assert second.returncode != 0
    assert "in use by another process" in second.stderr + second.stdout
