/**
 * Typed errors with messages a person can act on. `where` names the file, field, device or peer the problem is
 * about; the CLI prints `racepilot: <where>: <message>` and exits with `exitCode`.
 */
export class RacepilotError extends Error {
  constructor(
    message: string,
    readonly where: string | null = null,
    readonly exitCode = 1,
    options?: { cause?: unknown },
  ) {
    super(where ? `${where}: ${message}` : message, options);
    this.name = new.target.name;
  }
}

/** The configuration file is missing, unreadable or does not fit the schema. Exit code 78 (EX_CONFIG). */
export class ConfigError extends RacepilotError {
  constructor(message: string, where: string | null = null, options?: { cause?: unknown }) {
    super(message, where, 78, options);
  }
}

/** An input file (log, model, images, labels, track) is missing or malformed. Exit code 65 (EX_DATAERR). */
export class InputError extends RacepilotError {
  constructor(message: string, where: string | null = null, options?: { cause?: unknown }) {
    super(message, where, 65, options);
  }
}

/** A device or peer cannot be reached or misbehaves (serial port, UDP peer, camera). Exit code 69 (EX_UNAVAILABLE). */
export class LinkError extends RacepilotError {
  constructor(message: string, where: string | null = null, options?: { cause?: unknown }) {
    super(message, where, 69, options);
  }
}

/** Command-line usage mistakes. Exit code 64 (EX_USAGE). */
export class UsageError extends RacepilotError {
  constructor(message: string) {
    super(message, null, 64);
  }
}
