#define _GNU_SOURCE
/* Load generator for bench/compare: sends pre-encoded bodies (one file of length-prefixed
 * bodies) over N keep-alive HTTP/1.1 connections to 127.0.0.1:PORT/PATH and reports how many
 * were acknowledged with 2xx. Bodies are split round-robin by series shard so each connection
 * keeps per-series order. KIND is "remote-write" (the default: snappy-compressed WriteRequest
 * bodies) or "otlp" (uncompressed ExportMetricsServiceRequest bodies).
 *
 * Build: cc -O2 -pthread -o loadgen loadgen.c
 * Usage: loadgen PORT PATH BODIES_FILE CONNECTIONS [KIND]
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct { uint8_t *data; uint32_t len; uint32_t shard; } body_t;

static body_t *bodies;
static size_t body_count;
static int port;
static const char *path;
static int connections;
static int otlp;
static long failures;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

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

static int write_all(int fd, const void *buf, size_t len) {
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n <= 0) return -1;
        p += n; len -= (size_t)n;
    }
    return 0;
}

/* Reads one HTTP response; returns the status code or -1. */
static int read_response(int fd, char *buf, size_t cap) {
    size_t have = 0;
    for (;;) {
        ssize_t n = read(fd, buf + have, cap - have - 1);
        if (n <= 0) return -1;
        have += (size_t)n;
        buf[have] = 0;
        char *end = strstr(buf, "\r\n\r\n");
        if (!end) continue;
        int status = atoi(buf + 9);
        long content_length = 0;
        char *cl = strcasestr(buf, "content-length:");
        if (cl && cl < end) content_length = atol(cl + 15);
        size_t header = (size_t)(end + 4 - buf);
        while (have < header + (size_t)content_length) {
            n = read(fd, buf + have, cap - have - 1);
            if (n <= 0) return -1;
            have += (size_t)n;
        }
        return status;
    }
}

static void *worker(void *arg) {
    long id = (long)arg;
    int fd = connect_server();
    char header[512];
    char *response = malloc(1 << 16);
    for (size_t i = 0; i < body_count; i++) {
        if ((long)(bodies[i].shard % (uint32_t)connections) != id) continue;
        int hl = snprintf(header, sizeof header,
            "POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/x-protobuf\r\n%s"
            "User-Agent: osprey-bench\r\nContent-Length: %u\r\n\r\n", path, port,
            otlp ? "" : "Content-Encoding: snappy\r\nX-Prometheus-Remote-Write-Version: 0.1.0\r\n", bodies[i].len);
        if (write_all(fd, header, (size_t)hl) || write_all(fd, bodies[i].data, bodies[i].len)) { perror("write"); exit(1); }
        int status = read_response(fd, response, 1 << 16);
        if (status < 200 || status >= 300) {
            pthread_mutex_lock(&lock);
            if (failures++ < 5) fprintf(stderr, "status %d: %.200s\n", status, response);
            pthread_mutex_unlock(&lock);
            if (status < 0) { close(fd); fd = connect_server(); }
        }
    }
    close(fd);
    free(response);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 5 && argc != 6) { fprintf(stderr, "usage: loadgen PORT PATH BODIES_FILE CONNECTIONS [remote-write|otlp]\n"); return 2; }
    otlp = argc == 6 && strcmp(argv[5], "otlp") == 0;
    port = atoi(argv[1]);
    path = argv[2];
    connections = atoi(argv[4]);
    FILE *f = fopen(argv[3], "rb");
    if (!f) { perror("bodies"); return 1; }
    size_t cap = 1024;
    bodies = malloc(cap * sizeof *bodies);
    uint32_t header[2];
    while (fread(header, 4, 2, f) == 2) {
        if (body_count == cap) { cap *= 2; bodies = realloc(bodies, cap * sizeof *bodies); }
        bodies[body_count].len = header[0];
        bodies[body_count].shard = header[1];
        bodies[body_count].data = malloc(header[0]);
        if (fread(bodies[body_count].data, 1, header[0], f) != header[0]) { fprintf(stderr, "short file\n"); return 1; }
        body_count++;
    }
    fclose(f);
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    pthread_t threads[64];
    for (long i = 0; i < connections; i++) pthread_create(&threads[i], NULL, worker, (void *)i);
    for (long i = 0; i < connections; i++) pthread_join(threads[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &end);
    double seconds = (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9;
    printf("{\"requests\": %zu, \"failures\": %ld, \"seconds\": %.3f}\n", body_count, failures, seconds);
    return failures ? 1 : 0;
}
