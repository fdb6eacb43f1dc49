/** Errors a caller can tell apart (missing/corrupt model vs. bad options vs. runtime trouble). */

export class ModelFileError extends Error {
  readonly file: string;
  readonly expectedSha256: string | undefined;
  readonly actualSha256: string | undefined;
  constructor(kind: 'missing' | 'corrupt', file: string, expectedSha256?: string, actualSha256?: string) {
    const expect = expectedSha256 ? ` (expected sha256 ${expectedSha256})` : '';
    const msg =
      kind === 'missing'
        ? `model file missing: ${file}${expect}`
        : `model file corrupt: ${file} has sha256 ${actualSha256}${expect}; re-download or re-export the model`;
    super(msg);
    this.name = kind === 'missing' ? 'ModelFileMissingError' : 'ModelFileCorruptError';
    this.file = file;
    this.expectedSha256 = expectedSha256;
    this.actualSha256 = actualSha256;
  }
}

export class ModelConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelConfigError';
  }
}
