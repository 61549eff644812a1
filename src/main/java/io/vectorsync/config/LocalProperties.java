package io.vectorsync.config;

import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * {@code vectorsync.local.*}: a device's own store (the {@code local} profile).
 *
 * @param database the device's SQLite file (created with its folder on first start; WAL mode)
 * @param synchronous when a commit of the device's SQLite file waits for the disk (ADR 026): {@code NORMAL}
 *     (default) syncs the write-ahead log at each checkpoint, so a committed write survives the process being
 *     killed but the last commits may be lost when the machine loses power or the OS crashes (the file is
 *     never corrupted); {@code FULL} syncs it at every commit, so an acknowledged write also survives a
 *     power cut, at several times the cost of a write
 */
@Validated
@ConfigurationProperties("vectorsync.local")
public record LocalProperties(@DefaultValue("./data/local.db") @NotBlank String database,
        @DefaultValue("NORMAL") @NotNull Synchronous synchronous) {

    /** SQLite's {@code PRAGMA synchronous} levels a device may use. */
    public enum Synchronous {
        /** The WAL is synced at checkpoints: durable across process crashes, not across power loss. */
        NORMAL,
        /** The WAL is synced at every commit: durable across power loss. */
        FULL
    }
}
