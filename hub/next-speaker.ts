/**
 * The operator's choice of who improvises next (console/next-speaker, the page): set by the
 * console, taken once by the improv engine at its next turn.
 */
export class NextSpeaker {
  private id: string | null = null;

  set(id: string | null): void { this.id = id; }

  get current(): string | null { return this.id; }

  /** The choice, cleared: each choice is used once. */
  take(): string | null {
    const id = this.id;
    this.id = null;
    return id;
  }
}
