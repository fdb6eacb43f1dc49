/** The colour an emotion shows on a character's eye LEDs. Unknown emotions show a soft white. */
const COLORS: Record<string, [number, number, number]> = {
  neutral: [200, 200, 200],
  joy: [255, 200, 0],
  happy: [255, 200, 0],
  calm: [0, 160, 255],
  trust: [0, 200, 120],
  determined: [255, 80, 0],
  anger: [255, 0, 0],
  fear: [150, 0, 255],
  worry: [120, 60, 200],
  sadness: [0, 60, 255],
  surprise: [255, 255, 255],
  curious: [0, 255, 200],
  warmth: [255, 120, 80],
};

export function emotionColor(emotion: string): { r: number; g: number; b: number } {
  const c = COLORS[emotion.toLowerCase()] ?? COLORS.neutral!;
  return { r: c[0], g: c[1], b: c[2] };
}

export const KNOWN_EMOTIONS = Object.keys(COLORS);
