package io.vectorsync.backend;

/**
 * The fencing token of a write: the lease epoch of the relay instance holding the backend's lease for
 * one partition of its outbox (0 until partitions come; ADR 017). Fences and epochs are keyed by
 * (backend, partition) wherever a backend keeps them: a fence row, a collection marker, a header.
 */
public record LeaseFence(int partition, long epoch) {

    public LeaseFence {
        if (partition < 0) {
            throw new IllegalArgumentException("partition must be 0 or more, got " + partition);
        }
    }

    /** The fence of the only partition there is today. */
    public static LeaseFence of(long epoch) {
        return new LeaseFence(0, epoch);
    }

    /**
     * The key of this partition's fence under a backend's own key: {@code base} itself for partition 0
     * (so fences written before partitions existed stay valid), {@code base/<partition>} otherwise.
     */
    public String key(String base) {
        return partition == 0 ? base : base + "/" + partition;
    }
}
