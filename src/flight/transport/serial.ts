import { SerialPort } from 'serialport';
import { formatDelay, type BackoffPolicy } from './backoff.js';
import { ReconnectingTransport } from './reconnecting.js';

/** The part of serialport's stream this transport uses, so tests can hand in serialport's own SerialPortMock. */
export interface SerialPortLike {
  open(callback: (err: Error | null) => void): void;
  write(data: Uint8Array): boolean;
  close(callback?: (err: Error | null) => void): void;
  readonly isOpen: boolean;
  on(event: 'data', listener: (chunk: Buffer) => void): this;
  on(event: 'close' | 'error', listener: (err?: Error | null) => void): this;
  removeAllListeners(): this;
}

export interface SerialOptions {
  path: string;
  baudRate: number;
  reconnect: BackoffPolicy;
  /** Makes the port object; default serialport's SerialPort (tests pass SerialPortMock). */
  openPort?: (options: { path: string; baudRate: number; autoOpen: false }) => SerialPortLike;
}

/**
 * MAVLink over a serial port (the Jetson's UART to the flight controller, or a USB adapter). A device that is not
 * there (not plugged in yet, unplugged in flight, no permission) is reported with its path and retried with backoff,
 * never thrown: the flight controller may boot after the companion computer. The baud rate cannot be detected; a
 * wrong one shows up as bytes that never parse, which the link's parser counts as junk.
 */
export class SerialTransport extends ReconnectingTransport<SerialPortLike> {
  readonly name: string;

  constructor(private readonly options: SerialOptions) {
    super(options.reconnect);
    this.name = `serial:${options.path}@${options.baudRate}`;
  }

  protected async destroy(port: SerialPortLike): Promise<void> {
    if (port.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    port.removeAllListeners();
  }

  protected open(settled?: () => void): void {
    if (this.closed) return settled?.();
    const { path, baudRate } = this.options;
    let port: SerialPortLike;
    try {
      const make = this.options.openPort ?? ((o) => new SerialPort(o) as unknown as SerialPortLike);
      port = make({ path, baudRate, autoOpen: false });
    } catch (err) {
      // serialport validates its options synchronously; ours come from the schema, but a throw here must not escape.
      this.failed(describe(err), settled);
      return;
    }
    this.stream = port;
    port.on('data', (chunk: Buffer) => this.emitData(chunk));
    port.on('error', () => {
      // Errors also arrive through open's callback or as a close; listening here keeps them from being uncaught.
    });
    port.on('close', (err?: Error | null) => {
      if (this.stream !== port) return;
      this.stream = null;
      this.connected = false;
      port.removeAllListeners();
      this.failed(`device lost${err ? ` (${describe(err)})` : ''}`);
    });
    port.open((err) => {
      if (this.stream !== port) return settled?.(); // closed while opening
      if (err) {
        this.stream = null;
        port.removeAllListeners();
        this.failed(describe(err), settled);
        return;
      }
      this.opened(`serial ${path}: open at ${baudRate} baud`);
      settled?.();
    });
  }

  private failed(reason: string, settled?: () => void): void {
    if (this.closed) return settled?.();
    const delay = this.retry.schedule(() => this.open());
    this.emitStatus(false, `serial ${this.options.path}: ${reason}; retrying in ${formatDelay(delay)}`);
    settled?.();
  }
}

/** serialport's errors carry no code, only the OS's words; turn the common ones into advice. */
function describe(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  if (/no such file|ENOENT/i.test(text)) return 'no such device';
  if (/permission denied|EACCES/i.test(text)) return 'permission denied (is the user in the dialout group?)';
  if (/busy|EBUSY|lock/i.test(text)) return 'device busy (another program has it open)';
  return text;
}
