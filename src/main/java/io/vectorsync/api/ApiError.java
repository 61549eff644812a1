package io.vectorsync.api;

/**
 * What an error answer says before it is written as RFC 9457 problem details by {@link ApiErrors}: the
 * stable code (the {@code code} member, and the last segment of the {@code type} URI), the {@code detail}
 * text, and the offending {@code field} and what was {@code expected} (either may be null, and is then
 * left out of the answer).
 */
public record ApiError(String code, String detail, String field, String expected) {}
