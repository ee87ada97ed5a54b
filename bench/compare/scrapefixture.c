#define _GNU_SOURCE
/* Scrape target fixture for bench/compare/scrape.py: serves pre-rendered exposition bodies
 * (files written by scrape.py) to GET requests on NPORTS listening sockets on 127.0.0.1, from
 * one epoll thread, over keep-alive HTTP/1.1 connections. Any path serves the body, except
 * /-/stats (requests and body bytes served so far, as text).
 *
 * Each listening socket (one scrape target) counts its requests; the body served is variant
 * (count / CHANGE_EVERY) % VARIANTS, so values change every CHANGE_EVERY scrapes of a target
 * (CHANGE_EVERY 0: always variant 0). With GZIP 1, FILE.gz (written next to each FILE) is
 * served with Content-Encoding: gzip to requests that accept gzip.
 *
 * Build: cc -O2 -o scrapefixture scrapefixture.c
 * Usage: scrapefixture NPORTS CONTENT_TYPE CHANGE_EVERY GZIP FILE...
 * Prints the ports, one per line, then "ready".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

typedef struct { char *data; size_t len; } blob_t;

typedef struct {
    int fd;
    int listener;           /* index of the listening socket, or -1 for a listener itself */
    char rbuf[8192];
    size_t rlen;
    char head[512];
    size_t hlen, hoff;
    const char *body;
    size_t blen, boff;
    int writing, close_after;
} conn_t;

static blob_t *plain, *gz;
static int variants;
static long change_every;
static int use_gzip;
static const char *content_type;
static long *requests_per_port;
static long total_requests;
static unsigned long long total_bytes;
static int epfd;

static blob_t load(const char *path) {
    blob_t b = {0};
    int fd = open(path, O_RDONLY);
    if (fd < 0) { perror(path); exit(1); }
    struct stat st;
    fstat(fd, &st);
    b.len = (size_t)st.st_size;
    b.data = malloc(b.len + 1);
    size_t off = 0;
    while (off < b.len) {
        ssize_t n = read(fd, b.data + off, b.len - off);
        if (n <= 0) { perror(path); exit(1); }
        off += (size_t)n;
    }
    close(fd);
    return b;
}

static void set_events(conn_t *c, uint32_t events) {
    struct epoll_event ev = {.events = events, .data.ptr = c};
    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void drop(conn_t *c) {
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c);
}

/* Writes what is pending; returns 1 when done, 0 when blocked, -1 on error. */
static int flush_out(conn_t *c) {
    while (c->hoff < c->hlen || c->boff < c->blen) {
        struct iovec iov[2];
        int n = 0;
        if (c->hoff < c->hlen) { iov[n].iov_base = c->head + c->hoff; iov[n].iov_len = c->hlen - c->hoff; n++; }
        if (c->boff < c->blen) { iov[n].iov_base = (char *)c->body + c->boff; iov[n].iov_len = c->blen - c->boff; n++; }
        ssize_t w = writev(c->fd, iov, n);
        if (w < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
            if (errno == EINTR) continue;
            return -1;
        }
        size_t left = (size_t)w;
        size_t h = c->hlen - c->hoff < left ? c->hlen - c->hoff : left;
        c->hoff += h; left -= h;
        c->boff += left;
    }
    return 1;
}

static int header_has(const char *headers, const char *end, const char *name, const char *token) {
    size_t nlen = strlen(name);
    for (const char *p = headers; p < end;) {
        const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
        if (!eol) eol = end;
        if ((size_t)(eol - p) > nlen && strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
            size_t vlen = (size_t)(eol - p - nlen - 1);
            char value[512];
            if (vlen >= sizeof value) vlen = sizeof value - 1;
            memcpy(value, p + nlen + 1, vlen);
            value[vlen] = 0;
            if (strcasestr(value, token)) return 1;
        }
        p = eol + 2;
    }
    return 0;
}

static char stats_body[256];

/* Handles the complete requests in rbuf; returns -1 to close. */
static int handle(conn_t *c) {
    for (;;) {
        if (c->writing) return 0;
        char *end = memmem(c->rbuf, c->rlen, "\r\n\r\n", 4);
        if (!end) {
            if (c->rlen == sizeof c->rbuf) return -1;
            return 0;
        }
        size_t reqlen = (size_t)(end - c->rbuf) + 4;
        char *sp1 = memchr(c->rbuf, ' ', reqlen);
        char *sp2 = sp1 ? memchr(sp1 + 1, ' ', reqlen - (size_t)(sp1 + 1 - c->rbuf)) : NULL;
        char *line_end = memmem(c->rbuf, reqlen, "\r\n", 2);
        int is_stats = sp1 && sp2 && sp2 - sp1 - 1 == 8 && memcmp(sp1 + 1, "/-/stats", 8) == 0;
        int accepts_gzip = header_has(line_end + 2, end + 2, "Accept-Encoding", "gzip");
        c->close_after = header_has(line_end + 2, end + 2, "Connection", "close");
        if (is_stats) {
            int n = snprintf(stats_body, sizeof stats_body, "requests %ld\nbody_bytes %llu\n", total_requests, total_bytes);
            c->body = stats_body;
            c->blen = (size_t)n;
            c->hlen = (size_t)snprintf(c->head, sizeof c->head,
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n\r\n", c->blen);
        } else {
            long count = requests_per_port[c->listener]++;
            int v = change_every > 0 ? (int)((count / change_every) % variants) : 0;
            int zipped = use_gzip && accepts_gzip;
            blob_t *b = zipped ? &gz[v] : &plain[v];
            c->body = b->data;
            c->blen = b->len;
            total_requests++;
            total_bytes += b->len;
            c->hlen = (size_t)snprintf(c->head, sizeof c->head,
                "HTTP/1.1 200 OK\r\nContent-Type: %s\r\n%sContent-Length: %zu\r\n\r\n",
                content_type, zipped ? "Content-Encoding: gzip\r\n" : "", c->blen);
        }
        c->hoff = c->boff = 0;
        memmove(c->rbuf, c->rbuf + reqlen, c->rlen - reqlen);
        c->rlen -= reqlen;
        int r = flush_out(c);
        if (r < 0) return -1;
        if (r == 0) {
            c->writing = 1;
            set_events(c, EPOLLOUT);
            return 0;
        }
        if (c->close_after) return -1;
    }
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: scrapefixture NPORTS CONTENT_TYPE CHANGE_EVERY GZIP FILE...\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) { rl.rlim_cur = rl.rlim_max; setrlimit(RLIMIT_NOFILE, &rl); }
    int nports = atoi(argv[1]);
    content_type = argv[2];
    change_every = atol(argv[3]);
    use_gzip = atoi(argv[4]);
    variants = argc - 5;
    plain = calloc((size_t)variants, sizeof *plain);
    gz = calloc((size_t)variants, sizeof *gz);
    for (int i = 0; i < variants; i++) {
        plain[i] = load(argv[5 + i]);
        if (use_gzip) {
            char path[4096];
            snprintf(path, sizeof path, "%s.gz", argv[5 + i]);
            gz[i] = load(path);
        }
    }
    requests_per_port = calloc((size_t)nports, sizeof *requests_per_port);
    epfd = epoll_create1(0);
    for (int i = 0; i < nports; i++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        struct sockaddr_in addr = {0};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = inet_addr("127.0.0.1");
        if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, 1024) != 0) { perror("bind/listen"); return 1; }
        socklen_t len = sizeof addr;
        getsockname(fd, (struct sockaddr *)&addr, &len);
        printf("%d\n", ntohs(addr.sin_port));
        conn_t *l = calloc(1, sizeof *l);
        l->fd = fd;
        l->listener = -1 - i;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = l};
        epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
    }
    printf("ready\n");
    fflush(stdout);

    struct epoll_event events[256];
    for (;;) {
        int n = epoll_wait(epfd, events, 256, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            perror("epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            conn_t *c = events[i].data.ptr;
            if (c->listener < 0) {
                for (;;) {
                    int fd = accept4(c->fd, NULL, NULL, SOCK_NONBLOCK);
                    if (fd < 0) break;
                    int one = 1;
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    conn_t *nc = calloc(1, sizeof *nc);
                    nc->fd = fd;
                    nc->listener = -1 - c->listener;
                    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = nc};
                    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
                }
                continue;
            }
            if (c->writing) {
                int r = flush_out(c);
                if (r < 0) { drop(c); continue; }
                if (r == 0) continue;
                c->writing = 0;
                if (c->close_after) { drop(c); continue; }
                set_events(c, EPOLLIN);
                if (handle(c) < 0) drop(c);
                continue;
            }
            ssize_t r = read(c->fd, c->rbuf + c->rlen, sizeof c->rbuf - c->rlen);
            if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) { drop(c); continue; }
            if (r > 0) c->rlen += (size_t)r;
            if (handle(c) < 0) drop(c);
        }
    }
}
