package io.vectorsync.config;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.springframework.context.annotation.Profile;

/**
 * A bean of the server (the primary PostgreSQL, its relay, backends, verify, jobs): absent on a device,
 * which is started with the {@code local} profile and keeps its chunks in SQLite (ADR 023).
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Profile("!" + DeviceOnly.PROFILE)
public @interface ServerOnly {}
