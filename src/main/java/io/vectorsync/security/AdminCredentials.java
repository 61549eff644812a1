package io.vectorsync.security;

import jakarta.servlet.http.HttpServletRequest;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.AuthenticationException;
import org.springframework.security.web.authentication.www.BasicAuthenticationConverter;

/**
 * The admin credential checked inside a handler of the open API ({@code /api/**} has no filter chain, ADR 013):
 * for the few calls whose answer depends on what the request is about rather than on its path — a job of an
 * operator type ({@code JobHandler.operatorOnly()}) submitted, cancelled or retried through
 * {@code /api/v1/jobs}. The same schemes and the same {@link AdminAuthenticationProvider} as the admin
 * surface; a refusal is {@link Refused}, answered like the admin surface's 401 by {@link AdminAuthEntryPoint}.
 */
public final class AdminCredentials {

    private final AdminAuthenticationProvider provider;
    private final BasicAuthenticationConverter basic = new BasicAuthenticationConverter();

    public AdminCredentials(AdminAuthenticationProvider provider) {
        this.provider = provider;
    }

    /** The entry point that answers a {@link Refused}, with the configured schemes' challenges. */
    public AdminAuthEntryPoint refusal() {
        return new AdminAuthEntryPoint(provider);
    }

    /**
     * Returns when the request carries the admin credential ({@code Authorization: Bearer} or basic).
     *
     * @throws Refused when it carries none, a wrong one or a malformed one
     */
    public void require(HttpServletRequest request) {
        try {
            Authentication presented = SecurityConfig.bearerToken(request);
            if (presented == null) {
                presented = basic.convert(request);
            }
            if (presented == null) {
                throw new Refused("no admin credential");
            }
            provider.authenticate(presented);
        } catch (Refused e) {
            throw e;
        } catch (AuthenticationException e) {
            throw new Refused(e.getMessage());
        }
    }

    /** The request lacks the admin credential; the entry point decides between REQUIRED and INVALID. */
    public static final class Refused extends AuthenticationException {

        Refused(String message) {
            super(message);
        }
    }
}
