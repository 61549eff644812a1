package io.vectorsync.capture;

/** The result of a write: the chunk's new version and whether the write created it. */
public record Written(String chunkId, long version, boolean created) {}
