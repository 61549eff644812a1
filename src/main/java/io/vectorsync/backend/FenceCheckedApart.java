package io.vectorsync.backend;

/**
 * A backend that can only check the lease fence in a call apart from its write (no conditional write, no
 * transaction: Chroma). A write of a holder that finds its lease lost afterwards may have landed after
 * the new holder's, so the relay records its keys as suspect and the current holder re-reads and rewrites
 * them (ADR 017). A marker: the relay checks it with {@code instanceof}.
 */
public interface FenceCheckedApart extends Backend {}
