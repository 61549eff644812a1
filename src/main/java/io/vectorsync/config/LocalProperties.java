package io.vectorsync.config;

import jakarta.validation.constraints.NotBlank;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * {@code vectorsync.local.*}: a device's own store (the {@code local} profile).
 *
 * @param database the device's SQLite file (created with its folder on first start; WAL mode)
 */
@Validated
@ConfigurationProperties("vectorsync.local")
public record LocalProperties(@DefaultValue("./data/local.db") @NotBlank String database) {}
