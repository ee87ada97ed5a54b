#define _GNU_SOURCE
/* History generator for bench/compare/storage.py: sends STEPS rounds of one sample per series
 * (timestamps START_MS + step * INTERVAL_MS, oldest first) as Prometheus remote-write requests
 * (protobuf WriteRequest, snappy block format using literals only, which every snappy decoder
 * accepts) over CONNECTIONS keep-alive HTTP/1.1 connections to 127.0.0.1:PORT/PATH.
 *
 * All connections work on the same round and wait for each other (a barrier) before the next,
 * so no server sees a sample far behind the newest one it has (Prometheus rejects samples older
 * than its head's max time - 1h). Series are split into contiguous shards, one per connection,
 * cut into requests of BATCH series (one sample each).
 *
 * Values are deterministic (per-series xorshift state seeded by the series index) and shaped
 * like real node_exporter data so that they compress realistically; the kind of each series
 * comes from the series file written by storage.py:
 *   0 constant                        value = initial
 *   1 counter, constant increment     value += param per step
 *   2 CPU-seconds counter             value += ~param * interval (+-25 %), 2 decimals
 *   3 byte counter                    value += integer in [0, 2 * param * interval], 20 % idle steps
 *   4 gauge random walk               value += uniform(-param, param), 2 decimals
 *   5 byte gauge                      value += 4096 * k, k in [-param, param], changes 30 % of steps
 *   6 seconds counter, ms resolution  value += uniform(0, param * interval), 3 decimals
 *
 * Series file: per series  u8 kind, f64 param, f64 initial, u32 n, n bytes of encoded
 * TimeSeries.labels fields (each 0x0a len Label).
 *
 * Build: cc -O2 -pthread -o historygen historygen.c -lm
 * Usage: historygen PORT PATH SERIES_FILE START_MS INTERVAL_MS STEPS CONNECTIONS BATCH [JITTER_MS]
 * Prints one JSON line: requests, failures, samples, bytes (uncompressed protobuf), seconds.
 */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    uint8_t kind;
    double param;
    double value;
    uint64_t rng;
    uint8_t *labels;
    uint32_t labels_len;
} series_t;

static series_t *series;
static size_t series_count;
static int port;
static const char *path;
static int64_t start_ms, interval_ms, jitter_ms;
static long steps;
static int connections;
static size_t batch;
static pthread_barrier_t barrier;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long failures, requests, retries;
static uint64_t total_bytes;
static struct timespec started;

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - started.tv_sec) + (double)(t.tv_nsec - started.tv_nsec) / 1e9;
}

static uint64_t next_random(uint64_t *state) {
    uint64_t x = *state;
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    *state = x;
    return x;
}

static double uniform(uint64_t *state) { return (double)(next_random(state) >> 11) / 9007199254740992.0; }

static double round_to(double v, double scale) { return round(v * scale) / scale; }

/* Advances a series by one step and returns its value for that step. */
static double advance(series_t *s, long step) {
    double interval = (double)interval_ms / 1000.0;
    if (step == 0) return s->value;
    switch (s->kind) {
    case 1: s->value += s->param; break;
    case 2: s->value = round_to(s->value + s->param * interval * (0.75 + 0.5 * uniform(&s->rng)), 100); break;
    case 3:
        if (uniform(&s->rng) >= 0.2) s->value += floor(uniform(&s->rng) * 2 * s->param * interval);
        break;
    case 4: s->value = round_to(s->value + (uniform(&s->rng) * 2 - 1) * s->param, 100); break;
    case 5:
        if (uniform(&s->rng) < 0.3) {
            long k = (long)(next_random(&s->rng) % (uint64_t)(2 * (long)s->param + 1)) - (long)s->param;
            s->value += 4096.0 * (double)k;
            if (s->value < 0) s->value = 0;
        }
        break;
    case 6: s->value = round_to(s->value + uniform(&s->rng) * s->param * interval, 1000); break;
    default: break;
    }
    return s->value;
}

static size_t put_varint(uint8_t *p, uint64_t v) {
    size_t n = 0;
    while (v >= 0x80) { p[n++] = (uint8_t)(v | 0x80); v >>= 7; }
    p[n++] = (uint8_t)v;
    return n;
}

static size_t varint_len(uint64_t v) {
    size_t n = 1;
    while (v >= 0x80) { v >>= 7; n++; }
    return n;
}

/* Snappy block format with literals only: varint(length), then literals of at most 64 KiB. */
static size_t snappy_literals(const uint8_t *in, size_t len, uint8_t *out) {
    size_t o = put_varint(out, len);
    for (size_t i = 0; i < len; i += 65536) {
        size_t n = len - i < 65536 ? len - i : 65536;
        if (n <= 60) {
            out[o++] = (uint8_t)((n - 1) << 2);
        } else if (n <= 256) {
            out[o++] = 60 << 2;
            out[o++] = (uint8_t)(n - 1);
        } else {
            out[o++] = 61 << 2;
            out[o++] = (uint8_t)((n - 1) & 0xff);
            out[o++] = (uint8_t)((n - 1) >> 8);
        }
        memcpy(out + o, in + i, n);
        o += n;
    }
    return o;
}

static int connect_server(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = inet_addr("127.0.0.1");
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) { perror("connect"); exit(1); }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static int write_all(int fd, struct iovec *iov, int count) {
    while (count > 0) {
        ssize_t n = writev(fd, iov, count);
        if (n <= 0) return -1;
        while (count > 0 && (size_t)n >= iov->iov_len) { n -= (ssize_t)iov->iov_len; iov++; count--; }
        if (count > 0) { iov->iov_base = (uint8_t *)iov->iov_base + n; iov->iov_len -= (size_t)n; }
    }
    return 0;
}

/* Reads one HTTP response; returns the status code or -1 (connection lost). Sets *close_after
 * when the server says Connection: close. */
static int read_response(int fd, char *buf, size_t cap, int *close_after) {
    size_t have = 0;
    for (;;) {
        ssize_t n = read(fd, buf + have, cap - have - 1);
        if (n <= 0) return -1;
        have += (size_t)n;
        buf[have] = 0;
        char *end = strstr(buf, "\r\n\r\n");
        if (!end) { if (have >= cap - 1) return -1; continue; }
        int status = atoi(buf + 9);
        long content_length = 0;
        char *cl = strcasestr(buf, "content-length:");
        if (cl && cl < end) content_length = atol(cl + 15);
        char *connection = strcasestr(buf, "connection: close");
        *close_after = connection && connection < end;
        size_t header = (size_t)(end + 4 - buf);
        size_t want = header + (size_t)content_length;
        while (have < want) { /* a body longer than the buffer is read and dropped past it */
            size_t room = cap - 1 - (have < cap - 1 ? have : cap - 1);
            size_t at = have < cap - 1 ? have : 0;
            char scratch[4096];
            char *into = room ? buf + at : scratch;
            size_t size = room ? room : sizeof scratch;
            if (size > want - have) size = want - have;
            n = read(fd, into, size);
            if (n <= 0) return -1;
            have += (size_t)n;
            if (room) buf[at + (size_t)n] = 0;
        }
        return status;
    }
}

typedef struct { long id; size_t first, last; } shard_t;

static void *worker(void *arg) {
    shard_t *shard = arg;
    int fd = connect_server();
    size_t max_labels = 0;
    for (size_t i = shard->first; i < shard->last; i++)
        if (series[i].labels_len > max_labels) max_labels = series[i].labels_len;
    size_t raw_cap = batch * (max_labels + 48) + 64;
    uint8_t *raw = malloc(raw_cap);
    uint8_t *body = malloc(raw_cap + raw_cap / 65536 * 3 + 64);
    char *response = malloc(1 << 16);
    char header[512];
    long my_requests = 0, my_failures = 0, my_retries = 0;
    uint64_t my_bytes = 0;
    for (long step = 0; step < steps; step++) {
        int64_t base = start_ms + step * interval_ms;
        for (size_t from = shard->first; from < shard->last; from += batch) {
            size_t to = from + batch < shard->last ? from + batch : shard->last;
            size_t len = 0;
            for (size_t i = from; i < to; i++) {
                series_t *s = &series[i];
                double value = advance(s, step);
                int64_t ts = base;
                if (jitter_ms > 0) ts += (int64_t)(next_random(&s->rng) % (uint64_t)(2 * jitter_ms + 1)) - jitter_ms;
                uint8_t sample[24];
                size_t sl = 0;
                sample[sl++] = 0x09;
                memcpy(sample + sl, &value, 8);
                sl += 8;
                sample[sl++] = 0x10;
                sl += put_varint(sample + sl, (uint64_t)ts);
                size_t ts_len = s->labels_len + 1 + varint_len(sl) + sl;
                raw[len++] = 0x0a;
                len += put_varint(raw + len, ts_len);
                memcpy(raw + len, s->labels, s->labels_len);
                len += s->labels_len;
                raw[len++] = 0x12;
                len += put_varint(raw + len, sl);
                memcpy(raw + len, sample, sl);
                len += sl;
            }
            size_t body_len = snappy_literals(raw, len, body);
            int hl = snprintf(header, sizeof header,
                "POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/x-protobuf\r\n"
                "Content-Encoding: snappy\r\nX-Prometheus-Remote-Write-Version: 0.1.0\r\n"
                "User-Agent: osprey-bench-historygen\r\nContent-Length: %zu\r\n\r\n", path, port, body_len);
            for (int attempt = 0;; attempt++) {
                struct iovec iov[2] = {{header, (size_t)hl}, {body, body_len}};
                int close_after = 0;
                int status = write_all(fd, iov, 2) ? -1 : read_response(fd, response, 1 << 16, &close_after);
                if (status < 0 || close_after) { close(fd); fd = connect_server(); }
                if (status < 0 && attempt < 3) { my_retries++; continue; } /* connection lost: resend */
                if (status < 200 || status >= 300) {
                    my_failures++;
                    pthread_mutex_lock(&lock);
                    if (failures + my_failures <= 5)
                        fprintf(stderr, "historygen: step %ld: status %d: %.300s\n", step, status, status < 0 ? "" : response);
                    pthread_mutex_unlock(&lock);
                }
                break;
            }
            my_requests++;
            my_bytes += len;
        }
        pthread_barrier_wait(&barrier);
        if (shard->id == 0 && steps >= 10 && (step + 1) % (steps / 10) == 0)
            fprintf(stderr, "historygen: %ld/%ld steps, %.1f s\n", step + 1, steps, now_seconds());
    }
    close(fd);
    pthread_mutex_lock(&lock);
    requests += my_requests;
    failures += my_failures;
    retries += my_retries;
    total_bytes += my_bytes;
    pthread_mutex_unlock(&lock);
    free(raw);
    free(body);
    free(response);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 9 && argc != 10) {
        fprintf(stderr, "usage: historygen PORT PATH SERIES_FILE START_MS INTERVAL_MS STEPS CONNECTIONS BATCH [JITTER_MS]\n");
        return 2;
    }
    port = atoi(argv[1]);
    path = argv[2];
    start_ms = atoll(argv[4]);
    interval_ms = atoll(argv[5]);
    steps = atol(argv[6]);
    connections = atoi(argv[7]);
    batch = (size_t)atol(argv[8]);
    jitter_ms = argc == 10 ? atoll(argv[9]) : 0;
    if (connections < 1 || connections > 64 || batch < 1 || interval_ms < 1 || jitter_ms * 2 >= interval_ms) {
        fprintf(stderr, "historygen: bad arguments\n");
        return 2;
    }
    FILE *f = fopen(argv[3], "rb");
    if (!f) { perror("series file"); return 1; }
    size_t cap = 1024;
    series = malloc(cap * sizeof *series);
    uint8_t kind;
    while (fread(&kind, 1, 1, f) == 1) {
        if (series_count == cap) { cap *= 2; series = realloc(series, cap * sizeof *series); }
        series_t *s = &series[series_count];
        double initial;
        if (fread(&s->param, 8, 1, f) != 1 || fread(&initial, 8, 1, f) != 1 || fread(&s->labels_len, 4, 1, f) != 1) {
            fprintf(stderr, "historygen: short series file\n");
            return 1;
        }
        s->kind = kind;
        s->value = initial;
        s->rng = 0x9E3779B97F4A7C15ULL ^ ((uint64_t)(series_count + 1) * 0xBF58476D1CE4E5B9ULL);
        for (int i = 0; i < 4; i++) next_random(&s->rng);
        s->labels = malloc(s->labels_len);
        if (fread(s->labels, 1, s->labels_len, f) != s->labels_len) { fprintf(stderr, "historygen: short series file\n"); return 1; }
        series_count++;
    }
    fclose(f);
    if ((size_t)connections > series_count) connections = (int)series_count;
    clock_gettime(CLOCK_MONOTONIC, &started);
    pthread_barrier_init(&barrier, NULL, (unsigned)connections);
    pthread_t threads[64];
    shard_t shards[64];
    for (long i = 0; i < connections; i++) {
        shards[i] = (shard_t){i, series_count * (size_t)i / (size_t)connections, series_count * (size_t)(i + 1) / (size_t)connections};
        pthread_create(&threads[i], NULL, worker, &shards[i]);
    }
    for (long i = 0; i < connections; i++) pthread_join(threads[i], NULL);
    double seconds = now_seconds();
    printf("{\"requests\": %ld, \"failures\": %ld, \"retries\": %ld, \"samples\": %llu, \"bytes\": %llu, \"seconds\": %.3f}\n",
           requests, failures, retries, (unsigned long long)series_count * (unsigned long long)steps,
           (unsigned long long)total_bytes, seconds);
    return failures ? 1 : 0;
}
