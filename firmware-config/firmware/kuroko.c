/*
 * Kuroko firmware for the ATmega328P (Arduino Uno, Nano) at 16 MHz.
 *
 * It speaks the Firmata 2.5 wire protocol, the subset johnny-five (firmata.js) uses, so the stock
 * host libraries drive it; and it adds the one thing Firmata lacks: a host-silence failsafe. When
 * no byte has come from the host for failsafeMs (default 500), it detaches the servos, sets every
 * PWM output to 0 and applies the safe pin states the host configured, and it says so; when the
 * host speaks again it says that too. Actuators then stay safe until the host commands them again.
 *
 * Written from the protocol description (firmata/protocol on GitHub), not from Firmata's code.
 *
 * Timers: timer 0 = millis + PWM on 5/6 (976 Hz), timer 2 = PWM on 3/11 (976 Hz),
 * timer 1 = 50 Hz servo frame (ICR1 = 39999, 0.5 us ticks): servos on 9/10 use OC1A/OC1B in
 * hardware; servos on other pins are "soft" pulses timed against TCNT1 at the start of each frame.
 * PWM (analogWrite) on 9/10 therefore runs at 50 Hz, which is fine for motors and dim LEDs.
 */
#include <avr/io.h>
#include <avr/interrupt.h>
#include <avr/wdt.h>
#include <avr/sleep.h>
#include <stdint.h>

#ifndef KUROKO_VERSION_MAJOR
#define KUROKO_VERSION_MAJOR 1
#endif
#ifndef KUROKO_VERSION_MINOR
#define KUROKO_VERSION_MINOR 0
#endif

/* ---- Firmata constants (protocol 2.5) ---- */
#define DIGITAL_MESSAGE     0x90
#define ANALOG_MESSAGE      0xE0
#define REPORT_ANALOG       0xC0
#define REPORT_DIGITAL      0xD0
#define SET_PIN_MODE        0xF4
#define SET_DIGITAL_PIN     0xF5
#define REPORT_VERSION      0xF9
#define SYSTEM_RESET        0xFF
#define START_SYSEX         0xF0
#define END_SYSEX           0xF7

#define SX_KUROKO           0x0E /* Firmata leaves 0x00-0x0F to user-defined sysex */
#define SX_ANALOG_MAP_Q     0x69
#define SX_ANALOG_MAP_R     0x6A
#define SX_CAPABILITY_Q     0x6B
#define SX_CAPABILITY_R     0x6C
#define SX_PIN_STATE_Q      0x6D
#define SX_PIN_STATE_R      0x6E
#define SX_EXTENDED_ANALOG  0x6F
#define SX_SERVO_CONFIG     0x70
#define SX_STRING           0x71
#define SX_REPORT_FIRMWARE  0x79
#define SX_SAMPLING_INTERVAL 0x7A

/* Kuroko sysex sub-commands */
#define K_SET_FAILSAFE      0x01 /* host: ms as 3 x 7 bits (0 = off) */
#define K_TRIPPED           0x02 /* board: reason, silent ms (3 x 7 bits) */
#define K_HOST_RETURNED     0x03 /* board: silent ms (3 x 7 bits) */
#define K_SET_SAFE_STATE    0x04 /* host: pin, state (0 low, 1 high, 0x7F leave as is) */
#define K_GO_SAFE           0x05 /* host: enter the safe state now */
#define K_STATUS            0x06 /* host query / board reply */
#define REASON_SILENCE      1
#define REASON_COMMANDED    2

#define MODE_INPUT   0x00
#define MODE_OUTPUT  0x01
#define MODE_ANALOG  0x02
#define MODE_PWM     0x03
#define MODE_SERVO   0x04
#define MODE_PULLUP  0x0B
#define MODE_NONE    0x7F

#define NUM_PINS     20 /* D0-D13, A0-A5 as 14-19 */
#define NUM_ANALOG   6
#define LEAVE        0x7F

/* ---- time ---- */
static volatile uint32_t t0_overflows; /* timer 0 overflows every 1024 us */
ISR(TIMER0_OVF_vect) { t0_overflows++; }
static uint32_t millis(void) {
  uint32_t o;
  uint8_t s = SREG; cli(); o = t0_overflows; SREG = s;
  return (o * 1024UL) / 1000UL;
}

/* ---- UART with ring buffers: the main loop never waits for a byte ---- */
#define RXN 128
#define TXN 128
static volatile uint8_t rxb[RXN], rxh, rxt;
static volatile uint8_t txb[TXN], txh, txt;
ISR(USART_RX_vect) {
  uint8_t c = UDR0, n = (uint8_t)((rxh + 1) % RXN);
  if (n != rxt) { rxb[rxh] = c; rxh = n; }
}
ISR(USART_UDRE_vect) {
  if (txh == txt) { UCSR0B &= (uint8_t)~_BV(UDRIE0); return; }
  UDR0 = txb[txt]; txt = (uint8_t)((txt + 1) % TXN);
}
static void tx(uint8_t c) {
  uint8_t n = (uint8_t)((txh + 1) % TXN);
  while (n == txt) { wdt_reset(); } /* the UDRE interrupt drains it */
  txb[txh] = c; txh = n;
  UCSR0B |= _BV(UDRIE0);
}
static int rx(void) {
  if (rxh == rxt) return -1;
  uint8_t c = rxb[rxt]; rxt = (uint8_t)((rxt + 1) % RXN);
  return c;
}
static void uart_init(void) {
  UCSR0A = _BV(U2X0);
  UBRR0 = 34; /* 57600 baud at 16 MHz with U2X (57142, -0.8%) */
  UCSR0C = _BV(UCSZ01) | _BV(UCSZ00);
  UCSR0B = _BV(RXEN0) | _BV(TXEN0) | _BV(RXCIE0);
}

/* ---- pins ---- */
static volatile uint8_t *ddr_of(uint8_t p) { return p < 8 ? &DDRD : p < 14 ? &DDRB : &DDRC; }
static volatile uint8_t *port_of(uint8_t p) { return p < 8 ? &PORTD : p < 14 ? &PORTB : &PORTC; }
static volatile uint8_t *pin_of(uint8_t p) { return p < 8 ? &PIND : p < 14 ? &PINB : &PINC; }
static uint8_t bit_of(uint8_t p) { return (uint8_t)_BV(p < 8 ? p : p < 14 ? p - 8 : p - 14); }
static uint8_t is_pwm(uint8_t p) { return p == 3 || p == 5 || p == 6 || p == 9 || p == 10 || p == 11; }
static uint8_t usable(uint8_t p) { return p >= 2 && p < NUM_PINS; }

static uint8_t mode[NUM_PINS];
static uint16_t value[NUM_PINS];     /* last written value (output level, PWM duty, servo us) */
static uint8_t safe_state[NUM_PINS]; /* LEAVE, 0 or 1 */
static uint16_t servo_min[NUM_PINS], servo_max[NUM_PINS];
static uint16_t servo_us[NUM_PINS];  /* 0 = detached */
static uint8_t report_port[3], last_port[3];
static uint8_t report_analog_mask;
static uint16_t sampling_ms = 19;

static void set_level(uint8_t p, uint8_t high) {
  if (high) *port_of(p) |= bit_of(p); else *port_of(p) &= (uint8_t)~bit_of(p);
}

/* Connects or disconnects a pin's timer compare output. */
static void pwm_connect(uint8_t p, uint8_t on) {
  switch (p) {
    case 3:  if (on) TCCR2A |= _BV(COM2B1); else TCCR2A &= (uint8_t)~_BV(COM2B1); break;
    case 11: if (on) TCCR2A |= _BV(COM2A1); else TCCR2A &= (uint8_t)~_BV(COM2A1); break;
    case 5:  if (on) TCCR0A |= _BV(COM0B1); else TCCR0A &= (uint8_t)~_BV(COM0B1); break;
    case 6:  if (on) TCCR0A |= _BV(COM0A1); else TCCR0A &= (uint8_t)~_BV(COM0A1); break;
    case 9:  if (on) TCCR1A |= _BV(COM1A1); else TCCR1A &= (uint8_t)~_BV(COM1A1); break;
    case 10: if (on) TCCR1A |= _BV(COM1B1); else TCCR1A &= (uint8_t)~_BV(COM1B1); break;
  }
}
static void pwm_compare(uint8_t p, uint16_t v) {
  switch (p) {
    case 3: OCR2B = (uint8_t)v; break;
    case 11: OCR2A = (uint8_t)v; break;
    case 5: OCR0B = (uint8_t)v; break;
    case 6: OCR0A = (uint8_t)v; break;
    case 9: OCR1A = v; break;
    case 10: OCR1B = v; break;
  }
}

static void pwm_write(uint8_t p, uint16_t v) {
  if (v > 255) v = 255;
  value[p] = v;
  /* 0 and 255 are driven as plain levels: fast PWM would leave a glitch at 0. */
  if (v == 0 || v == 255) { pwm_connect(p, 0); set_level(p, v == 255); return; }
  pwm_compare(p, (p == 9 || p == 10) ? (uint16_t)(((uint32_t)v * 40000UL) / 255UL) : v);
  pwm_connect(p, 1);
}

static void servo_detach(uint8_t p) {
  servo_us[p] = 0;
  if (p == 9 || p == 10) { pwm_connect(p, 0); pwm_compare(p, 0); }
  set_level(p, 0);
}

static void servo_write(uint8_t p, uint16_t v) {
  uint16_t us;
  /* As in Firmata: below 544 the value is an angle in degrees, otherwise microseconds. */
  if (v < 544) {
    if (v > 180) v = 180;
    us = (uint16_t)(servo_min[p] + ((uint32_t)(servo_max[p] - servo_min[p]) * v) / 180UL);
  } else {
    us = v < servo_min[p] ? servo_min[p] : v > servo_max[p] ? servo_max[p] : v;
  }
  value[p] = us;
  servo_us[p] = us;
  if (p == 9 || p == 10) { pwm_compare(p, (uint16_t)(us * 2)); pwm_connect(p, 1); }
}

static void set_mode(uint8_t p, uint8_t m) {
  if (!usable(p)) return;
  if ((m == MODE_ANALOG && p < 14) || (m == MODE_SERVO && p >= 14) || (m == MODE_PWM && !is_pwm(p))) return;
  if (mode[p] == MODE_SERVO && m != MODE_SERVO) servo_detach(p);
  if (mode[p] == MODE_PWM && m != MODE_PWM) { pwm_connect(p, 0); }
  switch (m) {
    case MODE_INPUT: case MODE_ANALOG:
      *ddr_of(p) &= (uint8_t)~bit_of(p); set_level(p, 0); break;
    case MODE_PULLUP:
      *ddr_of(p) &= (uint8_t)~bit_of(p); set_level(p, 1); break;
    case MODE_OUTPUT:
      set_level(p, 0); *ddr_of(p) |= bit_of(p); value[p] = 0; break;
    case MODE_PWM:
      *ddr_of(p) |= bit_of(p); pwm_write(p, 0); break;
    case MODE_SERVO:
      set_level(p, 0); *ddr_of(p) |= bit_of(p);
      if (servo_min[p] == 0) { servo_min[p] = 544; servo_max[p] = 2400; }
      servo_us[p] = 0; /* attached on the first write, not before: no jump to an unknown angle */
      break;
    default: return;
  }
  mode[p] = m;
}

static void analog_write(uint8_t p, uint16_t v) {
  if (!usable(p)) return;
  if (mode[p] == MODE_SERVO) servo_write(p, v);
  else if (mode[p] == MODE_PWM) pwm_write(p, v);
}

static void digital_write_port(uint8_t port, uint8_t bits) {
  for (uint8_t i = 0; i < 8; i++) {
    uint8_t p = (uint8_t)(port * 8 + i);
    if (!usable(p)) continue;
    uint8_t hi = (bits >> i) & 1;
    if (mode[p] == MODE_OUTPUT) { set_level(p, hi); value[p] = hi; }
    else if (mode[p] == MODE_INPUT && hi) set_mode(p, MODE_PULLUP); /* Firmata 2.3 compatibility */
  }
}

/* ---- soft servos: pins other than 9/10, pulsed at the start of each 20 ms timer 1 frame ---- */
static void soft_servo_frame(void) {
  if (!(TIFR1 & _BV(TOV1))) return;
  TIFR1 = _BV(TOV1);
  /* Gather the pulsing pins first, so the timing loop below touches nothing else. */
  volatile uint8_t *port[NUM_PINS];
  uint8_t mask[NUM_PINS];
  uint16_t end[NUM_PINS];
  uint8_t n = 0;
  uint16_t all;
  for (uint8_t p = 2; p < NUM_PINS; p++) {
    if (mode[p] != MODE_SERVO || !servo_us[p] || p == 9 || p == 10) continue;
    port[n] = port_of(p); mask[n] = bit_of(p); end[n] = (uint16_t)(servo_us[p] * 2); n++;
  }
  if (!n) return;
  uint8_t s = SREG; cli(); /* raise every pin in the same few cycles */
  uint16_t start = TCNT1;
  for (uint8_t i = 0; i < n; i++) *port[i] |= mask[i];
  SREG = s;
  all = (uint16_t)((1ul << n) - 1u); /* up to 10 soft servo pins (2-13 but 9, 10) */
  /* Busy-wait the longest pulse (max 2.5 ms); UART bytes keep arriving through the RX interrupt. */
  while (all) {
    uint16_t el = (uint16_t)(TCNT1 - start);
    for (uint8_t i = 0; i < n; i++) {
      if ((all & (1u << i)) && el >= end[i]) { *port[i] &= (uint8_t)~mask[i]; all &= (uint16_t)~(1u << i); }
    }
  }
}

/* ---- sysex helpers ---- */
static void tx14(uint16_t v) { tx(v & 0x7F); tx((v >> 7) & 0x7F); }
static void tx21(uint32_t v) { tx(v & 0x7F); tx((v >> 7) & 0x7F); tx((v >> 14) & 0x7F); }

static const char NAME[] = "Kuroko";
static void report_version(void) { tx(REPORT_VERSION); tx(2); tx(5); }
static void report_firmware(void) {
  tx(START_SYSEX); tx(SX_REPORT_FIRMWARE); tx(KUROKO_VERSION_MAJOR); tx(KUROKO_VERSION_MINOR);
  for (const char *c = NAME; *c; c++) tx14((uint8_t)*c);
  tx(END_SYSEX);
}
static void capability_response(void) {
  tx(START_SYSEX); tx(SX_CAPABILITY_R);
  for (uint8_t p = 0; p < NUM_PINS; p++) {
    if (usable(p)) {
      tx(MODE_INPUT); tx(1); tx(MODE_OUTPUT); tx(1); tx(MODE_PULLUP); tx(1);
      if (is_pwm(p)) { tx(MODE_PWM); tx(8); }
      if (p < 14) { tx(MODE_SERVO); tx(14); } else { tx(MODE_ANALOG); tx(10); }
    }
    tx(0x7F);
  }
  tx(END_SYSEX);
}
static void analog_mapping_response(void) {
  tx(START_SYSEX); tx(SX_ANALOG_MAP_R);
  for (uint8_t p = 0; p < NUM_PINS; p++) tx(p >= 14 ? p - 14 : 0x7F);
  tx(END_SYSEX);
}
static void pin_state_response(uint8_t p) {
  if (p >= NUM_PINS) return;
  tx(START_SYSEX); tx(SX_PIN_STATE_R); tx(p); tx(mode[p]);
  uint16_t v = value[p];
  if (mode[p] == MODE_INPUT || mode[p] == MODE_PULLUP) v = (*pin_of(p) & bit_of(p)) ? 1 : 0;
  tx(v & 0x7F); if (v > 0x7F) tx((v >> 7) & 0x7F);
  tx(END_SYSEX);
}

/* ---- failsafe ---- */
static uint16_t failsafe_ms = 500;
static uint32_t last_rx_ms;
static uint8_t armed;   /* the failsafe arms on the first byte from a host */
static uint8_t tripped;

static void go_safe(uint8_t reason, uint32_t silent) {
  for (uint8_t p = 2; p < NUM_PINS; p++) {
    if (mode[p] == MODE_SERVO) servo_detach(p);
    else if (mode[p] == MODE_PWM) pwm_write(p, 0);
    if (safe_state[p] != LEAVE && (mode[p] == MODE_OUTPUT || mode[p] == MODE_PWM)) {
      if (mode[p] == MODE_PWM) pwm_write(p, safe_state[p] ? 255 : 0);
      else { set_level(p, safe_state[p]); value[p] = safe_state[p]; }
    }
  }
  tx(START_SYSEX); tx(SX_KUROKO); tx(K_TRIPPED); tx(reason); tx21(silent); tx(END_SYSEX);
}

static void kuroko_status(void) {
  tx(START_SYSEX); tx(SX_KUROKO); tx(K_STATUS); tx21(failsafe_ms); tx(tripped);
  tx(KUROKO_VERSION_MAJOR); tx(KUROKO_VERSION_MINOR); tx(END_SYSEX);
}

static void system_reset(void) {
  for (uint8_t p = 2; p < NUM_PINS; p++) {
    set_mode(p, MODE_INPUT); value[p] = 0; safe_state[p] = LEAVE; servo_min[p] = 0;
  }
  for (uint8_t i = 0; i < 3; i++) { report_port[i] = 0; last_port[i] = 0; }
  report_analog_mask = 0;
  sampling_ms = 19;
}

/* ---- incoming messages ---- */
#define SXN 64
static uint8_t sx[SXN], sxn, in_sysex;
static uint8_t cmd, need, got, args[2];

static void handle_sysex(void) {
  if (sxn == 0) return;
  uint8_t id = sx[0];
  switch (id) {
    case SX_REPORT_FIRMWARE: report_firmware(); break;
    case SX_CAPABILITY_Q: capability_response(); break;
    case SX_ANALOG_MAP_Q: analog_mapping_response(); break;
    case SX_PIN_STATE_Q: if (sxn >= 2) pin_state_response(sx[1]); break;
    case SX_SAMPLING_INTERVAL:
      if (sxn >= 3) { sampling_ms = (uint16_t)(sx[1] | (sx[2] << 7)); if (sampling_ms < 10) sampling_ms = 10; }
      break;
    case SX_SERVO_CONFIG:
      if (sxn >= 6 && usable(sx[1]) && sx[1] < 14) {
        uint8_t p = sx[1];
        servo_min[p] = (uint16_t)(sx[2] | (sx[3] << 7));
        servo_max[p] = (uint16_t)(sx[4] | (sx[5] << 7));
        if (servo_max[p] <= servo_min[p] || servo_max[p] > 3000) { servo_min[p] = 544; servo_max[p] = 2400; }
        set_mode(p, MODE_SERVO);
      }
      break;
    case SX_EXTENDED_ANALOG:
      if (sxn >= 3) {
        uint32_t v = 0;
        for (uint8_t i = 2; i < sxn && i < 6; i++) v |= (uint32_t)sx[i] << (7 * (i - 2));
        analog_write(sx[1], v > 0xFFFF ? 0xFFFF : (uint16_t)v);
      }
      break;
    case SX_KUROKO:
      if (sxn < 2) break;
      switch (sx[1]) {
        case K_SET_FAILSAFE:
          if (sxn >= 5) { uint32_t ms = sx[2] | ((uint32_t)sx[3] << 7) | ((uint32_t)sx[4] << 14); failsafe_ms = ms > 60000 ? 60000 : (uint16_t)ms; }
          break;
        case K_SET_SAFE_STATE:
          if (sxn >= 4 && usable(sx[2])) safe_state[sx[2]] = sx[3] == LEAVE ? LEAVE : (sx[3] ? 1 : 0);
          break;
        case K_GO_SAFE: go_safe(REASON_COMMANDED, 0); break;
        case K_STATUS: kuroko_status(); break;
      }
      break;
  }
}

static void handle_byte(uint8_t c) {
  if (in_sysex) {
    if (c == END_SYSEX) { in_sysex = 0; handle_sysex(); }
    else if (c & 0x80) { in_sysex = 0; } /* a stray command byte aborts a broken sysex */
    else if (sxn < SXN) sx[sxn++] = c;
    if (!(c & 0x80) || c == END_SYSEX) return;
  }
  if (c & 0x80) {
    cmd = c; got = 0; need = 0;
    uint8_t hi = c & 0xF0;
    if (c == START_SYSEX) { in_sysex = 1; sxn = 0; return; }
    if (c == REPORT_VERSION) { report_version(); return; }
    if (c == SYSTEM_RESET) { system_reset(); return; }
    if (hi == DIGITAL_MESSAGE || hi == ANALOG_MESSAGE || c == SET_PIN_MODE || c == SET_DIGITAL_PIN) need = 2;
    else if (hi == REPORT_ANALOG || hi == REPORT_DIGITAL) need = 1;
    return;
  }
  if (!need) return;
  args[got++] = c;
  if (got < need) return;
  got = 0;
  uint8_t hi = cmd & 0xF0, lo = cmd & 0x0F;
  if (hi == DIGITAL_MESSAGE) { if (lo < 3) digital_write_port(lo, (uint8_t)(args[0] | (args[1] << 7))); }
  else if (hi == ANALOG_MESSAGE) analog_write(lo, (uint16_t)(args[0] | (args[1] << 7)));
  else if (hi == REPORT_ANALOG) {
    if (lo < NUM_ANALOG) { if (args[0]) report_analog_mask |= (uint8_t)_BV(lo); else report_analog_mask &= (uint8_t)~_BV(lo); }
  } else if (hi == REPORT_DIGITAL) {
    if (lo < 3) { report_port[lo] = args[0]; last_port[lo] = 0xFF; /* force a first report */ }
  } else if (cmd == SET_PIN_MODE) {
    set_mode(args[0], args[1]);
    if (args[1] == MODE_ANALOG && args[0] >= 14 && args[0] < NUM_PINS) report_analog_mask |= (uint8_t)_BV(args[0] - 14);
  } else if (cmd == SET_DIGITAL_PIN) {
    uint8_t p = args[0];
    if (usable(p) && mode[p] == MODE_OUTPUT) { set_level(p, args[1] ? 1 : 0); value[p] = args[1] ? 1 : 0; }
    else if (usable(p) && mode[p] == MODE_INPUT && args[1]) set_mode(p, MODE_PULLUP);
  }
}

/* ---- inputs ---- */
static uint8_t read_port(uint8_t port) {
  uint8_t v = 0;
  for (uint8_t i = 0; i < 8; i++) {
    uint8_t p = (uint8_t)(port * 8 + i);
    if (p >= NUM_PINS || !usable(p)) continue;
    if ((mode[p] == MODE_INPUT || mode[p] == MODE_PULLUP) && (*pin_of(p) & bit_of(p))) v |= (uint8_t)_BV(i);
  }
  return v;
}
static void report_digital_changes(void) {
  for (uint8_t port = 0; port < 3; port++) {
    if (!report_port[port]) continue;
    uint8_t v = read_port(port);
    if (v != last_port[port]) { last_port[port] = v; tx(DIGITAL_MESSAGE | port); tx14(v); }
  }
}
static uint16_t adc_read(uint8_t ch) {
  ADMUX = (uint8_t)(_BV(REFS0) | ch); /* AVcc reference */
  ADCSRA |= _BV(ADSC);
  while (ADCSRA & _BV(ADSC)) {}
  return ADC;
}

int main(void) {
  /* A watchdog reset leaves the watchdog running: switch it off before anything else. */
  MCUSR = 0; wdt_disable();
  for (uint8_t p = 0; p < NUM_PINS; p++) { mode[p] = usable(p) ? MODE_INPUT : MODE_NONE; safe_state[p] = LEAVE; }
  /* timer 0: fast PWM, /64 -> 976 Hz, overflow = millis tick */
  TCCR0A = _BV(WGM01) | _BV(WGM00); TCCR0B = _BV(CS01) | _BV(CS00); TIMSK0 = _BV(TOIE0);
  /* timer 2: fast PWM, /64 */
  TCCR2A = _BV(WGM21) | _BV(WGM20); TCCR2B = _BV(CS22);
  /* timer 1: mode 14 (fast PWM, TOP = ICR1), /8 -> 0.5 us ticks, 20 ms frame. ICR1 first: see README (simavr). */
  TCCR1A = _BV(WGM11); ICR1 = 39999; TCCR1B = _BV(WGM13) | _BV(WGM12) | _BV(CS11);
  /* ADC: /128 -> 125 kHz */
  ADCSRA = _BV(ADEN) | _BV(ADPS2) | _BV(ADPS1) | _BV(ADPS0);
  uart_init();
  set_sleep_mode(SLEEP_MODE_IDLE); /* idle keeps the timers, UART and ADC running */
  sei();
  wdt_enable(WDTO_500MS); /* a hung loop resets the MCU, which leaves every pin an input */
  /* Announce ourselves, as a freshly reset Firmata board does. */
  report_version();
  report_firmware();

  uint32_t last_sample = 0;
  for (;;) {
    wdt_reset();
    int c;
    while ((c = rx()) >= 0) {
      uint32_t now = millis();
      if (tripped) {
        tripped = 0;
        tx(START_SYSEX); tx(SX_KUROKO); tx(K_HOST_RETURNED); tx21(now - last_rx_ms); tx(END_SYSEX);
      }
      last_rx_ms = now; armed = 1;
      handle_byte((uint8_t)c);
    }
    soft_servo_frame();
    report_digital_changes();
    uint32_t now = millis();
    if (armed && !tripped && failsafe_ms && now - last_rx_ms > failsafe_ms) {
      tripped = 1;
      go_safe(REASON_SILENCE, now - last_rx_ms);
    }
    if (now - last_sample >= sampling_ms) {
      last_sample = now;
      for (uint8_t ch = 0; ch < NUM_ANALOG; ch++) {
        if (report_analog_mask & _BV(ch)) { uint16_t v = adc_read(ch); tx(ANALOG_MESSAGE | ch); tx14(v); }
      }
    }
    /* Idle until the next interrupt (a received byte, or the 1 ms timer-0 tick): every timed job
     * above runs at millisecond grain anyway. Checking and sleeping with interrupts off, then
     * "sei; sleep", cannot miss a byte: the instruction after sei always runs first. */
    cli();
    if (rxh == rxt) { sleep_enable(); sei(); sleep_cpu(); sleep_disable(); }
    sei();
  }
}
