import winston from 'winston';
import type { LogLevel } from '../config/config.js';

export type Logger = winston.Logger;

/**
 * The agent's logger. JSON lines for machines by default; `text` for a person at a terminal.
 * Component loggers are children carrying `taskArn`, `container` and `dockerId` so a task's story
 * can be followed with one grep.
 */
export function createLogger(options: { level: LogLevel; format: 'json' | 'text'; silent?: boolean }): Logger {
  const format =
    options.format === 'json'
      ? winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: false }), winston.format.json())
      : winston.format.combine(
          winston.format.timestamp(),
          winston.format.printf(({ timestamp, level, message, ...meta }) => {
            const fields = Object.entries(meta)
              .filter(([k]) => typeof k === 'string')
              .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
              .join(' ');
            return `${String(timestamp)} ${level.toUpperCase().padEnd(5)} ${String(message)}${fields ? ` ${fields}` : ''}`;
          }),
        );
  return winston.createLogger({
    level: options.level,
    format,
    silent: options.silent ?? false,
    transports: [new winston.transports.Stream({ stream: process.stderr })],
  });
}

/** A logger that drops everything, for tests and for CLI commands that print their own output. */
export function silentLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console({ silent: true })] });
}
