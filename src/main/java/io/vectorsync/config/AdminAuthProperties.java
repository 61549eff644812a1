package io.vectorsync.config;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Credentials of the admin API ({@code vectorsync.admin.*}): a bearer {@code token}, HTTP basic
 * {@code username}/{@code password}, or both. There is no default: with neither configured the admin API
 * refuses every call.
 *
 * @param token the bearer token of the admin API, the CLI, Hawtio and Jolokia
 * @param username the HTTP basic user of the same
 * @param password the HTTP basic password of that user
 */
@ConfigurationProperties("vectorsync.admin")
public record AdminAuthProperties(String token, String username, String password) {

    public boolean tokenConfigured() {
        return token != null && !token.isBlank();
    }

    public boolean basicConfigured() {
        return username != null && !username.isBlank() && password != null && !password.isEmpty();
    }
}
