/* Logs a process's large heap allocations, for the memory traces quoted in
 * docs/CostModel.md and docs/Results.md (where ONNX Runtime's arena
 * regions land, and whether glibc mapped them apart).
 *
 *   gcc -O2 -shared -fPIC -o build/malloc-trace.so bench/malloc-trace.c -ldl
 *   MT_OUT=trace.txt LD_PRELOAD=$PWD/build/malloc-trace.so \
 *       node bench/ort-footprint.js sequence build/npm/node_modules all \
 *       MODEL.onnx 1,3,224,224:8,3,224,224
 *
 * One line per allocation or free of at least 60 KiB, in order:
 *   OP BYTES ADDRESS MAPPED RSS
 * OP: m malloc, c calloc, r realloc (the new block), F realloc (the old
 * block), p posix_memalign, a aligned_alloc or memalign, f free; MAPPED 1
 * where glibc gave the block a mapping of its own (its chunk header's
 * IS_MMAPPED bit); RSS the process's resident bytes then (/proc/self/statm).
 * Without MT_OUT it logs nothing. Linux and glibc only. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { kMinBytes = 60 << 10 };

static void *(*real_malloc)(size_t);
static void (*real_free)(void *);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static void *(*real_memalign)(size_t, size_t);
static int out = -1, resolving;
/* dlsym may allocate before the real functions are known. */
static char early[1 << 16];
static size_t earlyUsed;

static void resolve(void) {
  if (real_malloc || resolving)
    return;
  resolving = 1;
  real_malloc = dlsym(RTLD_NEXT, "malloc");
  real_free = dlsym(RTLD_NEXT, "free");
  real_calloc = dlsym(RTLD_NEXT, "calloc");
  real_realloc = dlsym(RTLD_NEXT, "realloc");
  real_posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
  real_aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
  real_memalign = dlsym(RTLD_NEXT, "memalign");
  const char *path = getenv("MT_OUT");
  if (path)
    out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  resolving = 0;
}

static void *earlyAlloc(size_t n) {
  void *p = early + earlyUsed;
  earlyUsed += (n + 15) & ~(size_t)15;
  return earlyUsed <= sizeof early ? p : NULL;
}

static int isEarly(void *p) {
  return (char *)p >= early && (char *)p < early + sizeof early;
}

static long residentBytes(void) {
  char text[128];
  int f = open("/proc/self/statm", O_RDONLY);
  if (f < 0)
    return -1;
  ssize_t n = read(f, text, sizeof text - 1);
  close(f);
  if (n <= 0)
    return -1;
  text[n] = 0;
  long size, resident;
  if (sscanf(text, "%ld %ld", &size, &resident) != 2)
    return -1;
  return resident * sysconf(_SC_PAGESIZE);
}

/* glibc's chunk header: the size word before the block, its low bits
 * flags (2: mapped apart). */
static size_t chunkWord(void *p) { return ((size_t *)p)[-1]; }
static size_t chunkBytes(void *p) { return chunkWord(p) & ~(size_t)7; }

static void record(char op, size_t bytes, void *p) {
  if (out < 0 || !p)
    return;
  char line[160];
  int n = snprintf(line, sizeof line, "%c %zu %p %d %ld\n", op, bytes, p,
                   (chunkWord(p) & 2) ? 1 : 0, residentBytes());
  if (n > 0 && write(out, line, (size_t)n) < 0)
    out = -1;
}

void *malloc(size_t n) {
  if (!real_malloc) {
    if (resolving)
      return earlyAlloc(n);
    resolve();
  }
  void *p = real_malloc(n);
  if (n >= kMinBytes)
    record('m', n, p);
  return p;
}

void *calloc(size_t count, size_t size) {
  if (!real_calloc) {
    if (resolving) {
      void *p = earlyAlloc(count * size);
      if (p)
        memset(p, 0, count * size);
      return p;
    }
    resolve();
  }
  void *p = real_calloc(count, size);
  if (count * size >= kMinBytes)
    record('c', count * size, p);
  return p;
}

void free(void *p) {
  if (!p || isEarly(p))
    return;
  resolve();
  if (chunkBytes(p) >= kMinBytes)
    record('f', chunkBytes(p), p);
  real_free(p);
}

void *realloc(void *p, size_t n) {
  resolve();
  if (p && !isEarly(p) && chunkBytes(p) >= kMinBytes)
    record('F', chunkBytes(p), p);
  void *q = real_realloc(isEarly(p) ? NULL : p, n);
  if (n >= kMinBytes)
    record('r', n, q);
  return q;
}

int posix_memalign(void **result, size_t alignment, size_t n) {
  resolve();
  int error = real_posix_memalign(result, alignment, n);
  if (!error && n >= kMinBytes)
    record('p', n, *result);
  return error;
}

void *aligned_alloc(size_t alignment, size_t n) {
  resolve();
  void *p = real_aligned_alloc(alignment, n);
  if (n >= kMinBytes)
    record('a', n, p);
  return p;
}

void *memalign(size_t alignment, size_t n) {
  resolve();
  void *p = real_memalign(alignment, n);
  if (n >= kMinBytes)
    record('a', n, p);
  return p;
}
