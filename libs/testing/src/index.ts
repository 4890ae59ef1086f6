/** Helpers for specs only (dependency-cruiser keeps it out of app and library code). */
export * from './fixtures';
export * from './openrouter-stub';
export * from './strict-mock';
export * from './wait-for';
export * from './collect';
