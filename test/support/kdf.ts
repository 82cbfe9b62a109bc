/**
 * Time for a unit test that runs scrypt. Even at the lowest cost Veil accepts (N = 2^15; lower
 * would mean the importer taking weaker files), one derivation takes ~0.1 s on an idle machine
 * and seconds on a loaded 2-core one, and such tests run several: vitest's 5 s default is a race
 * with the load, not a bound on the code.
 */
export const KDF_TEST_TIMEOUT = 60_000;
