package io.vectorsync.config;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.springframework.context.annotation.Profile;

/** A bean of a device (the {@code local} profile: chunks in SQLite, synced with the remote; ADR 023). */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Profile(DeviceOnly.PROFILE)
public @interface DeviceOnly {

    /** The profile that starts a device. */
    String PROFILE = "local";
}
