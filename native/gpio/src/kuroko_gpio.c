/*
 * kuroko_gpio: GPIO through the Linux GPIO character device (uAPI v2), for kernels without sysfs
 * GPIO (Raspberry Pi 5 on recent kernels, Jetson on JetPack 6). N-API only, so one binary serves
 * every Node version with N-API 8. The e-stop input is a line request with edge events, watched on
 * the libuv loop (no thread, no polling); status lines are output line requests.
 *
 * JS API (see edge/hardware/gpio-chardev.ts for the typed wrapper):
 *   chipInfo(path) -> { name, label, lines }
 *   requestLines(path, { offsets, consumer, direction, edge, bias, activeLow, debounceUs, values }) -> fd
 *   getValues(fd, count) -> [0|1, ...]            setValues(fd, [0|1, ...])
 *   watch(fd, cb) -> watcher; cb(err, events)     unwatch(watcher)
 *   close(fd)                                     decodeEvents(buffer) -> events
 * An event is { offset, rising, timestampNs (bigint), seqno, lineSeqno }.
 */
#include <node_api.h>
#include <uv.h>
#include <linux/gpio.h>
#include <sys/ioctl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stdio.h>

#define EVENT_SIZE sizeof(struct gpio_v2_line_event)
#define CHECK(call) do { if ((call) != napi_ok) { napi_throw_error(env, NULL, "kuroko_gpio: N-API call failed: " #call); return NULL; } } while (0)

static const char *errno_code(int e) {
  switch (e) {
    case ENOENT: return "ENOENT"; case EACCES: return "EACCES"; case EPERM: return "EPERM";
    case EBUSY: return "EBUSY"; case EINVAL: return "EINVAL"; case ENOTTY: return "ENOTTY";
    case ENODEV: return "ENODEV"; case EBADF: return "EBADF"; case ENXIO: return "ENXIO";
    default: return "EIO";
  }
}

/* Throws an Error whose message names the operation and the path, with errno's name as .code. */
static napi_value throw_errno(napi_env env, const char *op, const char *what, int e) {
  char msg[512];
  snprintf(msg, sizeof msg, "%s %s: %s", op, what, strerror(e));
  napi_throw_error(env, errno_code(e), msg);
  return NULL;
}

static int get_string(napi_env env, napi_value v, char *buf, size_t len) {
  size_t n;
  return napi_get_value_string_utf8(env, v, buf, len, &n) == napi_ok ? 0 : -1;
}

static napi_value get_prop(napi_env env, napi_value obj, const char *name) {
  napi_value v = NULL;
  bool has = false;
  if (napi_has_named_property(env, obj, name, &has) != napi_ok || !has) return NULL;
  napi_get_named_property(env, obj, name, &v);
  napi_valuetype t;
  napi_typeof(env, v, &t);
  return (t == napi_undefined || t == napi_null) ? NULL : v;
}

static napi_value chip_info(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out, v;
  char path[256];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || get_string(env, argv[0], path, sizeof path)) { napi_throw_type_error(env, NULL, "chipInfo(path): path must be a string"); return NULL; }
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return throw_errno(env, "open", path, errno);
  struct gpiochip_info ci;
  memset(&ci, 0, sizeof ci);
  if (ioctl(fd, GPIO_GET_CHIPINFO_IOCTL, &ci) < 0) { int e = errno; close(fd); return throw_errno(env, "GPIO_GET_CHIPINFO on", path, e); }
  close(fd);
  CHECK(napi_create_object(env, &out));
  CHECK(napi_create_string_utf8(env, ci.name, NAPI_AUTO_LENGTH, &v)); CHECK(napi_set_named_property(env, out, "name", v));
  CHECK(napi_create_string_utf8(env, ci.label, NAPI_AUTO_LENGTH, &v)); CHECK(napi_set_named_property(env, out, "label", v));
  CHECK(napi_create_uint32(env, ci.lines, &v)); CHECK(napi_set_named_property(env, out, "lines", v));
  return out;
}

static int str_is(napi_env env, napi_value v, const char *want) {
  char buf[32];
  return v && !get_string(env, v, buf, sizeof buf) && strcmp(buf, want) == 0;
}

static napi_value request_lines(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  char path[256];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2 || get_string(env, argv[0], path, sizeof path)) { napi_throw_type_error(env, NULL, "requestLines(path, options): path must be a string"); return NULL; }
  struct gpio_v2_line_request req;
  memset(&req, 0, sizeof req);
  napi_value offsets = get_prop(env, argv[1], "offsets");
  uint32_t n = 0;
  bool is_array = false;
  if (offsets) napi_is_array(env, offsets, &is_array);
  if (!is_array || napi_get_array_length(env, offsets, &n) != napi_ok || n == 0 || n > GPIO_V2_LINES_MAX) {
    napi_throw_range_error(env, NULL, "requestLines: offsets must be a list of 1 to 64 line numbers");
    return NULL;
  }
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    CHECK(napi_get_element(env, offsets, i, &e));
    CHECK(napi_get_value_uint32(env, e, &req.offsets[i]));
  }
  req.num_lines = n;
  napi_value consumer = get_prop(env, argv[1], "consumer");
  if (!consumer || get_string(env, consumer, req.consumer, sizeof req.consumer)) strncpy(req.consumer, "kuroko", sizeof req.consumer - 1);

  uint64_t flags = 0;
  napi_value dir = get_prop(env, argv[1], "direction");
  int output = str_is(env, dir, "output");
  flags |= output ? GPIO_V2_LINE_FLAG_OUTPUT : GPIO_V2_LINE_FLAG_INPUT;
  napi_value edge = get_prop(env, argv[1], "edge");
  if (!output && edge) {
    if (str_is(env, edge, "rising")) flags |= GPIO_V2_LINE_FLAG_EDGE_RISING;
    else if (str_is(env, edge, "falling")) flags |= GPIO_V2_LINE_FLAG_EDGE_FALLING;
    else if (str_is(env, edge, "both")) flags |= GPIO_V2_LINE_FLAG_EDGE_RISING | GPIO_V2_LINE_FLAG_EDGE_FALLING;
  }
  napi_value bias = get_prop(env, argv[1], "bias");
  if (str_is(env, bias, "pull-up")) flags |= GPIO_V2_LINE_FLAG_BIAS_PULL_UP;
  else if (str_is(env, bias, "pull-down")) flags |= GPIO_V2_LINE_FLAG_BIAS_PULL_DOWN;
  else if (str_is(env, bias, "disabled")) flags |= GPIO_V2_LINE_FLAG_BIAS_DISABLED;
  napi_value active_low = get_prop(env, argv[1], "activeLow");
  bool al = false;
  if (active_low) napi_get_value_bool(env, active_low, &al);
  if (al) flags |= GPIO_V2_LINE_FLAG_ACTIVE_LOW;
  req.config.flags = flags;

  unsigned int attr = 0;
  napi_value debounce = get_prop(env, argv[1], "debounceUs");
  uint32_t debounce_us = 0;
  if (debounce && !output) napi_get_value_uint32(env, debounce, &debounce_us);
  if (debounce_us) {
    req.config.attrs[attr].attr.id = GPIO_V2_LINE_ATTR_ID_DEBOUNCE;
    req.config.attrs[attr].attr.debounce_period_us = debounce_us;
    req.config.attrs[attr].mask = n == 64 ? ~0ULL : ((1ULL << n) - 1);
    attr++;
  }
  napi_value values = get_prop(env, argv[1], "values");
  if (output && values) {
    uint64_t bits = 0;
    for (uint32_t i = 0; i < n; i++) {
      napi_value e;
      uint32_t b = 0;
      if (napi_get_element(env, values, i, &e) == napi_ok) napi_get_value_uint32(env, e, &b);
      if (b) bits |= 1ULL << i;
    }
    req.config.attrs[attr].attr.id = GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES;
    req.config.attrs[attr].attr.values = bits;
    req.config.attrs[attr].mask = n == 64 ? ~0ULL : ((1ULL << n) - 1);
    attr++;
  }
  req.config.num_attrs = attr;

  int chip = open(path, O_RDONLY | O_CLOEXEC);
  if (chip < 0) return throw_errno(env, "open", path, errno);
  if (ioctl(chip, GPIO_V2_GET_LINE_IOCTL, &req) < 0) { int e = errno; close(chip); return throw_errno(env, "GPIO_V2_GET_LINE (request lines) on", path, e); }
  close(chip);
  napi_value fd;
  CHECK(napi_create_int32(env, req.fd, &fd));
  return fd;
}

static napi_value get_values(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], out;
  int32_t fd;
  uint32_t n;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  CHECK(napi_get_value_uint32(env, argv[1], &n));
  if (n == 0 || n > 64) { napi_throw_range_error(env, NULL, "getValues: count must be 1 to 64"); return NULL; }
  struct gpio_v2_line_values lv = { .bits = 0, .mask = n == 64 ? ~0ULL : ((1ULL << n) - 1) };
  if (ioctl(fd, GPIO_V2_LINE_GET_VALUES_IOCTL, &lv) < 0) return throw_errno(env, "GPIO_V2_LINE_GET_VALUES on", "line request", errno);
  CHECK(napi_create_array_with_length(env, n, &out));
  for (uint32_t i = 0; i < n; i++) {
    napi_value b;
    CHECK(napi_create_uint32(env, (lv.bits >> i) & 1, &b));
    CHECK(napi_set_element(env, out, i, b));
  }
  return out;
}

static napi_value set_values(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd;
  uint32_t n;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  CHECK(napi_get_array_length(env, argv[1], &n));
  if (n == 0 || n > 64) { napi_throw_range_error(env, NULL, "setValues: 1 to 64 values"); return NULL; }
  struct gpio_v2_line_values lv = { .bits = 0, .mask = n == 64 ? ~0ULL : ((1ULL << n) - 1) };
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    uint32_t b = 0;
    CHECK(napi_get_element(env, argv[1], i, &e));
    napi_get_value_uint32(env, e, &b);
    if (b) lv.bits |= 1ULL << i;
  }
  if (ioctl(fd, GPIO_V2_LINE_SET_VALUES_IOCTL, &lv) < 0) return throw_errno(env, "GPIO_V2_LINE_SET_VALUES on", "line request", errno);
  return NULL;
}

/* Decodes whole kernel event records into JS objects; returns an array. */
static napi_value events_to_js(napi_env env, const unsigned char *buf, size_t count) {
  napi_value arr, o, v;
  if (napi_create_array_with_length(env, count, &arr) != napi_ok) return NULL;
  for (size_t i = 0; i < count; i++) {
    struct gpio_v2_line_event ev;
    memcpy(&ev, buf + i * EVENT_SIZE, EVENT_SIZE);
    napi_create_object(env, &o);
    napi_create_uint32(env, ev.offset, &v); napi_set_named_property(env, o, "offset", v);
    napi_get_boolean(env, ev.id == GPIO_V2_LINE_EVENT_RISING_EDGE, &v); napi_set_named_property(env, o, "rising", v);
    napi_create_bigint_uint64(env, ev.timestamp_ns, &v); napi_set_named_property(env, o, "timestampNs", v);
    napi_create_uint32(env, ev.seqno, &v); napi_set_named_property(env, o, "seqno", v);
    napi_create_uint32(env, ev.line_seqno, &v); napi_set_named_property(env, o, "lineSeqno", v);
    napi_set_element(env, arr, i, o);
  }
  return arr;
}

static napi_value decode_events(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  void *data;
  size_t len;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_get_buffer_info(env, argv[0], &data, &len) != napi_ok) { napi_throw_type_error(env, NULL, "decodeEvents(buffer)"); return NULL; }
  if (len % EVENT_SIZE) { napi_throw_range_error(env, NULL, "decodeEvents: the buffer is not a whole number of 48-byte events"); return NULL; }
  return events_to_js(env, data, len / EVENT_SIZE);
}

typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;
  napi_async_context ctx;
  int fd;
  int closing;
  unsigned char carry[EVENT_SIZE];
  size_t carried;
} watcher_t;

static void call_back(watcher_t *w, napi_value err, napi_value events) {
  napi_env env = w->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value cb, recv, undef, result, argv[2];
  napi_get_reference_value(env, w->callback, &cb);
  /* napi_make_callback wants an object as `this`: the global, as for a plain function call. */
  napi_get_global(env, &recv);
  napi_get_undefined(env, &undef);
  argv[0] = err ? err : undef;
  argv[1] = events ? events : undef;
  napi_make_callback(env, w->ctx, recv, cb, 2, argv, &result);
  napi_close_handle_scope(env, scope);
}

static void on_readable(uv_poll_t *handle, int status, int revents) {
  watcher_t *w = (watcher_t *)handle->data;
  (void)revents;
  if (w->closing) return;
  napi_env env = w->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  if (status < 0) {
    napi_value msg, err;
    napi_create_string_utf8(env, uv_strerror(status), NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &err);
    call_back(w, err, NULL);
    napi_close_handle_scope(env, scope);
    return;
  }
  unsigned char buf[EVENT_SIZE * 16];
  for (;;) {
    memcpy(buf, w->carry, w->carried);
    ssize_t r = read(w->fd, buf + w->carried, sizeof buf - w->carried);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      /* 0 = the other end closed (a fake chip's pipe); <0 = a real error. Either way, stop. */
      napi_value msg, err;
      napi_create_string_utf8(env, r == 0 ? "the GPIO event source closed" : strerror(errno), NAPI_AUTO_LENGTH, &msg);
      napi_create_error(env, NULL, msg, &err);
      uv_poll_stop(&w->poll);
      call_back(w, err, NULL);
      break;
    }
    size_t total = w->carried + (size_t)r;
    size_t whole = total / EVENT_SIZE;
    w->carried = total % EVENT_SIZE;
    memcpy(w->carry, buf + whole * EVENT_SIZE, w->carried);
    if (whole) call_back(w, NULL, events_to_js(env, buf, whole));
    if (w->closing) break;
  }
  napi_close_handle_scope(env, scope);
}

static void free_watcher(uv_handle_t *handle) {
  free(handle->data);
}

static napi_value watch(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], name, ext;
  int32_t fd;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok) { napi_throw_type_error(env, NULL, "watch(fd, callback)"); return NULL; }
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return throw_errno(env, "fcntl(O_NONBLOCK) on", "line request", errno);
  watcher_t *w = calloc(1, sizeof *w);
  if (!w) { napi_throw_error(env, NULL, "kuroko_gpio: out of memory"); return NULL; }
  w->env = env;
  w->fd = fd;
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  int rc = uv_poll_init(loop, &w->poll, fd);
  if (rc < 0) { free(w); napi_throw_error(env, NULL, uv_strerror(rc)); return NULL; }
  w->poll.data = w;
  CHECK(napi_create_reference(env, argv[1], 1, &w->callback));
  CHECK(napi_create_string_utf8(env, "kuroko_gpio.watch", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_async_init(env, NULL, name, &w->ctx));
  rc = uv_poll_start(&w->poll, UV_READABLE, on_readable);
  if (rc < 0) { napi_throw_error(env, NULL, uv_strerror(rc)); return NULL; }
  CHECK(napi_create_external(env, w, NULL, NULL, &ext));
  return ext;
}

static napi_value unwatch(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  void *data;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_get_value_external(env, argv[0], &data) != napi_ok) { napi_throw_type_error(env, NULL, "unwatch(watcher)"); return NULL; }
  watcher_t *w = data;
  if (w->closing) return NULL;
  w->closing = 1;
  uv_poll_stop(&w->poll);
  napi_delete_reference(env, w->callback);
  napi_async_destroy(env, w->ctx);
  uv_close((uv_handle_t *)&w->poll, free_watcher);
  return NULL;
}

static napi_value close_fd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  if (close(fd) < 0) return throw_errno(env, "close", "line request", errno);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    { "chipInfo", NULL, chip_info, NULL, NULL, NULL, napi_enumerable, NULL },
    { "requestLines", NULL, request_lines, NULL, NULL, NULL, napi_enumerable, NULL },
    { "getValues", NULL, get_values, NULL, NULL, NULL, napi_enumerable, NULL },
    { "setValues", NULL, set_values, NULL, NULL, NULL, napi_enumerable, NULL },
    { "watch", NULL, watch, NULL, NULL, NULL, napi_enumerable, NULL },
    { "unwatch", NULL, unwatch, NULL, NULL, NULL, napi_enumerable, NULL },
    { "close", NULL, close_fd, NULL, NULL, NULL, napi_enumerable, NULL },
    { "decodeEvents", NULL, decode_events, NULL, NULL, NULL, napi_enumerable, NULL },
  };
  napi_value size;
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  napi_create_uint32(env, EVENT_SIZE, &size);
  napi_set_named_property(env, exports, "EVENT_SIZE", size);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
