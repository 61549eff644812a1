package io.vectorsync.config;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * {@code vectorsync.verify.*}: how a verify run compares the primary with a backend.
 *
 * @param pageSize chunks compared per page
 * @param checksumPages compare a checksum of each page first and read the rows only of pages that differ
 *     (false: read every page's rows)
 */
@Validated
@ConfigurationProperties("vectorsync.verify")
public record VerifyProperties(
        @DefaultValue("500") @Min(1) @Max(10000) int pageSize,
        @DefaultValue("true") boolean checksumPages) {}
