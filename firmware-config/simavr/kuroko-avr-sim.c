/*
 * kuroko-avr-sim: an emulated Arduino Uno (ATmega328P, 16 MHz) for tests and benchmarks.
 *
 *  - runs a firmware .hex (and optionally optiboot, so avrdude can flash through the emulator);
 *  - bridges UART0 to a pseudo-terminal and prints its path ("pty /dev/pts/N");
 *  - resets the MCU when a program opens the pty, like a real Uno's DTR auto-reset. It watches the
 *    pty master: while no one has the slave open, poll() reports POLLHUP;
 *  - paces emulation to wall-clock time, so the firmware's millisecond timers (failsafe, sampling)
 *    mean what they say;
 *  - a line protocol on stdin/stdout lets a test read pin levels, timer-1 compare values (servo
 *    pulse widths), measured soft pulse widths, and inject ADC voltages.
 *
 * Commands (one per line):   state | adc CH MILLIVOLTS | pin N 0|1 | reset | pause | resume | quit
 * Replies / events (lines):  pty PATH | ok | state {json} | open | close | reset | error TEXT
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <simavr/sim_avr.h>
#include <simavr/sim_hex.h>
#include <simavr/sim_irq.h>
#include <simavr/sim_time.h>
#include <simavr/avr_uart.h>
#include <simavr/avr_ioport.h>
#include <simavr/avr_adc.h>

/* ATmega328P data-space addresses of the registers we report. */
#define R_PINB 0x23
#define R_DDRB 0x24
#define R_PORTB 0x25
#define R_PINC 0x26
#define R_DDRC 0x27
#define R_PORTC 0x28
#define R_PIND 0x29
#define R_DDRD 0x2A
#define R_PORTD 0x2B
#define R_MCUSR 0x54
#define R_TCCR0A 0x44
#define R_OCR0A 0x47
#define R_OCR0B 0x48
#define R_TCCR1A 0x80
#define R_TCCR1B 0x81
#define R_ICR1L 0x86
#define R_OCR1AL 0x88
#define R_OCR1BL 0x8A
#define R_TCCR2A 0xB0
#define R_OCR2A 0xB3
#define R_OCR2B 0xB4
#define EXTRF_BIT 1

static avr_t *avr;
static int master = -1;
static int slave_open;
static int xon = 1;
static int paused; /* a hung MCU: the UART stays open but nothing answers */
static uint8_t inbuf[4096];
static size_t in_head, in_len;

/* Measured pulses on every digital pin (soft servos, LEDs): last rising edge and last width. */
static avr_cycle_count_t rise_at[20];
static uint32_t width_us[20];
static avr_cycle_count_t fall_at[20];

static void uart_out(struct avr_irq_t *irq, uint32_t value, void *param) {
  (void)irq; (void)param;
  if (!slave_open) return; /* like a real board with no host: the bytes go nowhere */
  uint8_t b = (uint8_t)value;
  /* The host reads promptly; if the pty buffer is full, dropping mimics an overrun. */
  if (write(master, &b, 1) < 0 && errno != EAGAIN) perror("pty write");
}
static void uart_xon(struct avr_irq_t *irq, uint32_t value, void *param) { (void)irq; (void)value; (void)param; xon = 1; }
static void uart_xoff(struct avr_irq_t *irq, uint32_t value, void *param) { (void)irq; (void)value; (void)param; xon = 0; }

static void pin_changed(struct avr_irq_t *irq, uint32_t value, void *param) {
  int pin = (int)(intptr_t)param;
  (void)irq;
  if (value) rise_at[pin] = avr->cycle;
  else if (rise_at[pin]) { width_us[pin] = (uint32_t)((avr->cycle - rise_at[pin]) / (avr->frequency / 1000000)); fall_at[pin] = avr->cycle; }
}

/* simavr's default sleep callback sleeps in real time inside avr_run(); our own pacing loop does
 * that job (and keeps serving the pty meanwhile), so a sleeping MCU just skips ahead. */
static void no_sleep(avr_t *a, avr_cycle_count_t how_long) { (void)a; (void)how_long; }

static void load_hex(const char *file) {
  ihex_chunk_p chunks = NULL;
  int n = read_ihex_chunks(file, &chunks);
  if (n <= 0) { fprintf(stderr, "kuroko-avr-sim: cannot read %s\n", file); exit(2); }
  for (int i = 0; i < n; i++) {
    if (chunks[i].baseaddr + chunks[i].size > avr->flashend + 1) { fprintf(stderr, "kuroko-avr-sim: %s does not fit in flash\n", file); exit(2); }
    memcpy(avr->flash + chunks[i].baseaddr, chunks[i].data, chunks[i].size);
    if (chunks[i].baseaddr + chunks[i].size > avr->codeend) avr->codeend = chunks[i].baseaddr + chunks[i].size;
  }
  free_ihex_chunks(chunks);
}

static void external_reset(void) {
  avr_reset(avr);
  /* An external (DTR) reset: optiboot only waits for avrdude after one of these. */
  avr->data[R_MCUSR] = (uint8_t)(1 << EXTRF_BIT);
  in_head = in_len = 0;
  xon = 1;
  for (int i = 0; i < 20; i++) { rise_at[i] = 0; width_us[i] = 0; fall_at[i] = 0; }
}

static uint64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int level(int p) {
  int ddr, port, pin, bit;
  if (p < 8) { ddr = R_DDRD; port = R_PORTD; pin = R_PIND; bit = p; }
  else if (p < 14) { ddr = R_DDRB; port = R_PORTB; pin = R_PINB; bit = p - 8; }
  else { ddr = R_DDRC; port = R_PORTC; pin = R_PINC; bit = p - 14; }
  if (avr->data[ddr] & (1 << bit)) return (avr->data[port] >> bit) & 1;
  return (avr->data[pin] >> bit) & 1;
}
static int output(int p) {
  int ddr = p < 8 ? R_DDRD : p < 14 ? R_DDRB : R_DDRC, bit = p < 8 ? p : p < 14 ? p - 8 : p - 14;
  return (avr->data[ddr] >> bit) & 1;
}
static unsigned r16(int lo) { return (unsigned)avr->data[lo] | ((unsigned)avr->data[lo + 1] << 8); }

/* Duty (0..255) of a timer PWM pin, or -1 when its compare output is disconnected. */
static int pwm_of(int p) {
  switch (p) {
    case 3: return (avr->data[R_TCCR2A] & 0x20) ? avr->data[R_OCR2B] : -1;
    case 11: return (avr->data[R_TCCR2A] & 0x80) ? avr->data[R_OCR2A] : -1;
    case 5: return (avr->data[R_TCCR0A] & 0x20) ? avr->data[R_OCR0B] : -1;
    case 6: return (avr->data[R_TCCR0A] & 0x80) ? avr->data[R_OCR0A] : -1;
    case 9: return (avr->data[R_TCCR1A] & 0x80) ? (int)((r16(R_OCR1AL) * 255UL + r16(R_ICR1L) / 2) / (r16(R_ICR1L) + 1)) : -1;
    case 10: return (avr->data[R_TCCR1A] & 0x20) ? (int)((r16(R_OCR1BL) * 255UL + r16(R_ICR1L) / 2) / (r16(R_ICR1L) + 1)) : -1;
  }
  return -1;
}

static void print_state(void) {
  uint64_t t = avr_cycles_to_usec(avr, avr->cycle);
  char levels[21], outs[21];
  for (int p = 0; p < 20; p++) { levels[p] = (char)('0' + level(p)); outs[p] = (char)('0' + output(p)); }
  levels[20] = outs[20] = 0;
  /* Timer 1 at /8 ticks 0.5 us: OCR1x / 2 is the pulse width (simavr shows only 0.5 us spikes on the pin). */
  unsigned ocr1a = r16(R_OCR1AL), ocr1b = r16(R_OCR1BL), icr1 = r16(R_ICR1L);
  int com1a = (avr->data[R_TCCR1A] & 0x80) != 0, com1b = (avr->data[R_TCCR1A] & 0x20) != 0;
  printf("state {\"cpu\":%d,\"pc\":%u,\"tUs\":%llu,\"levels\":\"%s\",\"outputs\":\"%s\",\"timer1\":{\"icr1\":%u,\"ocr1a\":%u,\"ocr1b\":%u,\"com1a\":%d,\"com1b\":%d,\"tccr1b\":%u},",
         avr->state, (unsigned)avr->pc, (unsigned long long)t, levels, outs, icr1, ocr1a, ocr1b, com1a, com1b, avr->data[R_TCCR1B]);
  printf("\"pwm\":{\"3\":%d,\"5\":%d,\"6\":%d,\"9\":%d,\"10\":%d,\"11\":%d},", pwm_of(3), pwm_of(5), pwm_of(6), pwm_of(9), pwm_of(10), pwm_of(11));
  printf("\"pulses\":{");
  int first = 1;
  for (int p = 2; p < 20; p++) {
    if (!width_us[p]) continue;
    uint64_t age = avr_cycles_to_usec(avr, avr->cycle - fall_at[p]) / 1000;
    printf("%s\"%d\":{\"widthUs\":%u,\"ageMs\":%llu}", first ? "" : ",", p, width_us[p], (unsigned long long)age);
    first = 0;
  }
  printf("}}\n");
}

static void command(char *line) {
  char *nl = strchr(line, '\n');
  if (nl) *nl = 0;
  if (!line[0]) return;
  int ch, mv, pin, val;
  if (strcmp(line, "state") == 0) print_state();
  else if (sscanf(line, "pin %d %d", &pin, &val) == 2 && pin >= 2 && pin < 20) {
    /* Drives an input pin from outside (a button, a sensor's digital output). */
    char port = pin < 8 ? 'D' : pin < 14 ? 'B' : 'C';
    int bit = pin < 8 ? pin : pin < 14 ? pin - 8 : pin - 14;
    avr_raise_irq(avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ(port), IOPORT_IRQ_PIN0 + bit), val ? 1 : 0);
    printf("ok\n");
  }
  else if (sscanf(line, "adc %d %d", &ch, &mv) == 2 && ch >= 0 && ch < 8) {
    avr_raise_irq(avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_ADC0 + ch), (uint32_t)mv);
    printf("ok\n");
  } else if (strcmp(line, "reset") == 0) { external_reset(); printf("ok\n"); }
  else if (strcmp(line, "pause") == 0) { paused = 1; printf("ok\n"); }
  else if (strcmp(line, "resume") == 0) { paused = 0; printf("ok\n"); }
  else if (strcmp(line, "quit") == 0) exit(0);
  else printf("error unknown command: %s\n", line);
  fflush(stdout);
}

static char cmdbuf[256];
static size_t cmdlen;
static void read_stdin(void) {
  char buf[256];
  ssize_t n = read(0, buf, sizeof buf);
  if (n == 0) exit(0); /* the test harness went away: so do we */
  if (n < 0) return;
  for (ssize_t i = 0; i < n; i++) {
    if (buf[i] == '\n' || cmdlen == sizeof cmdbuf - 1) { cmdbuf[cmdlen] = 0; command(cmdbuf); cmdlen = 0; }
    else cmdbuf[cmdlen++] = buf[i];
  }
}

static void service(void) {
  struct pollfd fds[2] = { { .fd = master, .events = POLLIN }, { .fd = 0, .events = POLLIN } };
  if (poll(fds, 2, 0) < 0) return;
  int open_now = !(fds[0].revents & POLLHUP);
  if (open_now && !slave_open) {
    slave_open = 1;
    external_reset(); /* DTR auto-reset on open */
    printf("open\n"); fflush(stdout);
  } else if (!open_now && slave_open) {
    slave_open = 0;
    in_head = in_len = 0;
    printf("close\n"); fflush(stdout);
  }
  if (slave_open && (fds[0].revents & POLLIN) && in_len == 0) {
    ssize_t n = read(master, inbuf, sizeof inbuf);
    if (n > 0) { in_head = 0; in_len = (size_t)n; }
  }
  avr_irq_t *in = avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_INPUT);
  while (in_len && xon) { avr_raise_irq(in, inbuf[in_head++]); in_len--; }
  if (fds[1].revents & (POLLIN | POLLHUP)) read_stdin();
}

int main(int argc, char **argv) {
  const char *firmware = NULL, *bootloader = NULL, *link = NULL;
  int realtime = 1;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--firmware") && i + 1 < argc) firmware = argv[++i];
    else if (!strcmp(argv[i], "--bootloader") && i + 1 < argc) bootloader = argv[++i];
    else if (!strcmp(argv[i], "--link") && i + 1 < argc) link = argv[++i];
    else if (!strcmp(argv[i], "--fast")) realtime = 0;
    else { fprintf(stderr, "usage: kuroko-avr-sim [--firmware APP.hex] [--bootloader OPTIBOOT.hex] [--link PATH] [--fast]\n"); return 2; }
  }
  if (!firmware && !bootloader) { fprintf(stderr, "kuroko-avr-sim: give --firmware and/or --bootloader\n"); return 2; }
  avr = avr_make_mcu_by_name("atmega328p");
  if (!avr) { fprintf(stderr, "kuroko-avr-sim: simavr has no atmega328p core\n"); return 2; }
  avr_init(avr);
  avr->frequency = 16000000;
  avr->vcc = avr->avcc = avr->aref = 5000;
  avr->log = 0;
  avr->sleep = no_sleep;
  if (firmware) load_hex(firmware);
  if (bootloader) { load_hex(bootloader); avr->reset_pc = 0x7E00; } /* BOOTRST fuse with a 512-byte boot section */

  /* simavr sleeps in the UART poll path by default, which makes emulation ~250x too slow. */
  uint32_t flags = 0;
  avr_ioctl(avr, AVR_IOCTL_UART_GET_FLAGS('0'), &flags);
  flags &= ~(uint32_t)(AVR_UART_FLAG_POLL_SLEEP | AVR_UART_FLAG_STDIO);
  avr_ioctl(avr, AVR_IOCTL_UART_SET_FLAGS('0'), &flags);
  avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUTPUT), uart_out, NULL);
  avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XON), uart_xon, NULL);
  avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XOFF), uart_xoff, NULL);
  for (int p = 2; p < 20; p++) {
    char port = p < 8 ? 'D' : p < 14 ? 'B' : 'C';
    int bit = p < 8 ? p : p < 14 ? p - 8 : p - 14;
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ(port), IOPORT_IRQ_PIN0 + bit), pin_changed, (void *)(intptr_t)p);
  }

  int slave;
  char name[128];
  if (openpty(&master, &slave, name, NULL, NULL) < 0) { perror("openpty"); return 2; }
  struct termios tio;
  tcgetattr(slave, &tio);
  cfmakeraw(&tio); /* no echo, no line editing: the pty is a plain byte pipe like a USB serial port */
  tcsetattr(slave, TCSANOW, &tio);
  /* Closing our slave fd puts the master in the hang-up state until a client opens the pty. */
  close(slave);
  fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
  fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
  if (link) { unlink(link); if (symlink(name, link) < 0) perror("symlink"); }
  external_reset();
  avr->data[R_MCUSR] = 1; /* power-on reset */
  printf("pty %s\n", name);
  fflush(stdout);

  uint64_t start = now_us();
  avr_cycle_count_t start_cycle = avr->cycle;
  for (;;) {
    if (paused) {
      service();
      usleep(1000);
      start = now_us(); start_cycle = avr->cycle;
      continue;
    }
    /* Run at most 250 us of MCU time between services: a sleeping MCU skips ahead in big steps,
     * and the pty and stdin must still be served every fraction of a millisecond. */
    avr_cycle_count_t batch_end = avr->cycle + 4000;
    for (int i = 0; i < 4000 && avr->cycle < batch_end; i++) {
      int st = avr_run(avr);
      if (st == cpu_Done || st == cpu_Crashed) {
        printf("error mcu %s at pc 0x%x\n", st == cpu_Done ? "stopped" : "crashed", avr->pc);
        fflush(stdout);
        return 3;
      }
    }
    service();
    if (realtime) {
      /* A reset may move the cycle counter back: rebase rather than sleep for an underflow. */
      if (avr->cycle < start_cycle) { start = now_us(); start_cycle = avr->cycle; }
      uint64_t sim = avr_cycles_to_usec(avr, avr->cycle - start_cycle), wall = now_us() - start;
      if (sim > wall + 200) {
        /* Ahead of the clock: wait, but wake at once when the host writes or a command comes. */
        uint64_t us = sim - wall > 20000 ? 20000 : sim - wall;
        struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)(us * 1000) };
        struct pollfd fds[2] = { { .fd = master, .events = POLLIN }, { .fd = 0, .events = POLLIN } };
        /* While no one holds the pty, POLLHUP would end every wait at once: then only stdin wakes us. */
        ppoll(slave_open ? fds : fds + 1, slave_open ? 2 : 1, &ts, NULL);
      }
      else if (wall > sim + 200000) { start = now_us(); start_cycle = avr->cycle; } /* fell behind: do not race to catch up */
    }
  }
}
