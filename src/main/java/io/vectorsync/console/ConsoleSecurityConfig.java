package io.vectorsync.console;

import io.vectorsync.api.ApiError;
import io.vectorsync.api.ApiErrors;
import io.vectorsync.security.AdminAuthenticationProvider;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.util.LinkedHashMap;
import org.springframework.boot.actuate.autoconfigure.security.servlet.EndpointRequest;
import org.springframework.boot.web.servlet.server.CookieSameSiteSupplier;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.annotation.Order;
import org.springframework.security.authentication.AuthenticationManager;
import org.springframework.security.authentication.AuthenticationProvider;
import org.springframework.security.authentication.ProviderManager;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.core.Authentication;
import org.springframework.security.web.AuthenticationEntryPoint;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.access.AccessDeniedHandler;
import org.springframework.security.web.authentication.DelegatingAuthenticationEntryPoint;
import org.springframework.security.web.authentication.LoginUrlAuthenticationEntryPoint;
import org.springframework.security.web.authentication.preauth.PreAuthenticatedAuthenticationToken;
import org.springframework.security.web.csrf.CookieCsrfTokenRepository;
import org.springframework.security.web.csrf.CsrfException;
import org.springframework.security.web.csrf.CsrfToken;
import org.springframework.security.web.csrf.CsrfTokenRepository;
import org.springframework.security.web.csrf.HttpSessionCsrfTokenRepository;
import org.springframework.security.web.header.writers.ReferrerPolicyHeaderWriter;
import org.springframework.security.web.servlet.util.matcher.PathPatternRequestMatcher;
import org.springframework.security.web.util.matcher.AndRequestMatcher;
import org.springframework.security.web.util.matcher.NegatedRequestMatcher;
import org.springframework.security.web.util.matcher.OrRequestMatcher;
import org.springframework.security.web.util.matcher.RequestMatcher;

/**
 * The status page's own filter chain (ADR 029), for {@code /console} and {@code /console/**} only,
 * before the admin chain of {@link io.vectorsync.security.SecurityConfig}:
 * <ul>
 * <li>a login form ({@code /console/login}) that checks the admin credential with the admin API's
 * {@link AdminAuthenticationProvider}: the basic user and password, or, with the user left empty, the admin
 * token as the password; a session cookie ({@code HttpOnly}, {@code SameSite=Strict}) then carries the
 * login, and the session id changes at login;</li>
 * <li>Spring Security's CSRF token on every state-changing request of the page (retry, cancel, logout, the
 * login itself): the page reads it from {@code GET /console/api/csrf} and sends it in the
 * {@code X-CSRF-TOKEN} header; a request without it gets 403 {@code VSYNC-AUTH-CSRF} and changes
 * nothing. It is kept in the session, and before the login (the form's token) in a cookie, so an anonymous
 * caller gets no session ({@link SessionOrCookieCsrfTokenRepository});</li>
 * <li>the session opens only this chain: the admin chain is stateless and never reads it, so a logged-in
 * browser still has no credential for {@code /admin/**} (which has no CSRF token, as it takes header
 * credentials only);</li>
 * <li>a Content-Security-Policy of {@code 'self'} only and no framing.</li>
 * </ul>
 */
@Configuration
@io.vectorsync.config.ServerOnly
public class ConsoleSecurityConfig {

    /** Where the page sends the CSRF token; Spring Security's default header name, said here once. */
    static final String CSRF_HEADER = "X-CSRF-TOKEN";

    static final String CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
            + " connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

    /**
     * The console's chain: ahead of the admin chain (order 2), matching only the console's paths, never an
     * actuator endpoint (should the management base path be moved under {@code /console}).
     */
    @Bean
    @Order(0)
    SecurityFilterChain consoleChain(HttpSecurity http, AdminAuthenticationProvider credentials) throws Exception {
        PathPatternRequestMatcher.Builder paths = PathPatternRequestMatcher.withDefaults();
        RequestMatcher console = new AndRequestMatcher(
                new OrRequestMatcher(paths.matcher("/console"), paths.matcher("/console/**")),
                new NegatedRequestMatcher(EndpointRequest.toAnyEndpoint()));
        RequestMatcher api = paths.matcher("/console/api/**");
        AuthenticationManager manager = new ProviderManager(new ConsoleLogin(credentials));
        http.securityMatcher(console)
                .authenticationManager(manager)
                // Spring Security's CSRF protection: the token kept in the session (in a cookie before the
                // login: no session for anonymous callers), masked anew on each read
                // (XorCsrfTokenRequestAttributeHandler), checked on every POST.
                .csrf(c -> c.csrfTokenRepository(new SessionOrCookieCsrfTokenRepository()))
                .formLogin(f -> f.loginPage("/console/login")
                        .loginProcessingUrl("/console/login")
                        .defaultSuccessUrl("/console/", true)
                        // Back to the form without a session: the default handler would create one to keep
                        // the error in, for every wrong password of an anonymous caller.
                        .failureHandler(failedLogin())
                        .permitAll())
                .logout(l -> l.logoutUrl("/console/logout").logoutSuccessUrl("/console/login?logout")
                        .permitAll())
                .httpBasic(b -> b.disable())
                .requestCache(c -> c.disable())
                .headers(h -> h.frameOptions(f -> f.deny())
                        .contentSecurityPolicy(p -> p.policyDirectives(CSP))
                        .referrerPolicy(r -> r.policy(ReferrerPolicyHeaderWriter.ReferrerPolicy.SAME_ORIGIN)))
                .exceptionHandling(e -> e.authenticationEntryPoint(entryPoint(api))
                        .accessDeniedHandler(refused()))
                .authorizeHttpRequests(a -> a
                        // The form itself with any query (?error, ?logout): formLogin's permitAll matches the
                        // failure URL only when it is given as failureUrl, not through a failure handler.
                        .requestMatchers(paths.matcher("/console/api/csrf"), paths.matcher("/console/console.css"),
                                paths.matcher("/console/login.js"), paths.matcher(org.springframework.http.HttpMethod.GET,
                                        "/console/login"))
                        .permitAll()
                        .anyRequest().authenticated());
        return http.build();
    }

    /**
     * Where the CSRF token is kept: in the session when the caller has one (logged in), else — the login
     * form's token — in a cookie of the console's own ({@code HttpOnly}, {@code SameSite=Strict}, path
     * {@code /console}), so that an anonymous {@code GET /console/api/csrf} creates no HTTP session. The
     * login clears the cookie's token (Spring's CsrfAuthenticationStrategy), and the session then gets a
     * token of its own at the page's first read; a session's requests never consult the cookie.
     */
    static final class SessionOrCookieCsrfTokenRepository implements CsrfTokenRepository {

        static final String COOKIE = "VSYNC-CONSOLE-CSRF";

        private final HttpSessionCsrfTokenRepository session = new HttpSessionCsrfTokenRepository();
        private final CookieCsrfTokenRepository cookie = new CookieCsrfTokenRepository();

        SessionOrCookieCsrfTokenRepository() {
            session.setHeaderName(CSRF_HEADER);
            cookie.setHeaderName(CSRF_HEADER);
            cookie.setCookieName(COOKIE);
            cookie.setCookiePath("/console");
            cookie.setCookieCustomizer(c -> c.httpOnly(true).sameSite("Strict"));
        }

        private CsrfTokenRepository of(HttpServletRequest request) {
            return request.getSession(false) != null ? session : cookie;
        }

        @Override
        public CsrfToken generateToken(HttpServletRequest request) {
            return of(request).generateToken(request);
        }

        @Override
        public void saveToken(CsrfToken token, HttpServletRequest request, HttpServletResponse response) {
            of(request).saveToken(token, request, response);
        }

        @Override
        public CsrfToken loadToken(HttpServletRequest request) {
            return of(request).loadToken(request);
        }
    }

    /**
     * The session cookie is sent on same-site requests only: with the CSRF token, a second guard against a
     * request forged by another site. The servlet session's cookie; the login form's CSRF cookie sets its own
     * attributes ({@link SessionOrCookieCsrfTokenRepository}); the service sets no other.
     */
    @Bean
    CookieSameSiteSupplier consoleSessionCookieSameSite() {
        return CookieSameSiteSupplier.ofStrict().whenHasName("JSESSIONID");
    }

    /** Not logged in: the page's JSON calls get 401 problem details, a page is sent to the login form. */
    private static AuthenticationEntryPoint entryPoint(RequestMatcher api) {
        LinkedHashMap<RequestMatcher, AuthenticationEntryPoint> points = new LinkedHashMap<>();
        points.put(api, (request, response, e) -> ApiErrors.write(request, response, 401, new ApiError(
                "VSYNC-AUTH-REQUIRED", "The console needs a login: open /console/login.", "session", null)));
        DelegatingAuthenticationEntryPoint delegating = new DelegatingAuthenticationEntryPoint(points);
        delegating.setDefaultEntryPoint(new LoginUrlAuthenticationEntryPoint("/console/login"));
        return delegating;
    }

    /** A missing or wrong CSRF token: 403 {@code VSYNC-AUTH-CSRF}; nothing was done. */
    private static AccessDeniedHandler refused() {
        return (request, response, e) -> ApiErrors.write(request, response, 403, e instanceof CsrfException
                ? csrfRefused()
                : ApiErrors.forStatus(403));
    }

    static ApiError csrfRefused() {
        return new ApiError("VSYNC-AUTH-CSRF", "The console's request carried no valid CSRF token (or the"
                + " session it belongs to has ended); nothing was done. Reload the page.", CSRF_HEADER,
                "the token of GET /console/api/csrf");
    }

    /**
     * The login form's check: the admin API's basic user and password, or the admin token as the password
     * when the user is left empty (a deployment with a token only).
     */
    static final class ConsoleLogin implements AuthenticationProvider {

        private final AdminAuthenticationProvider admin;

        ConsoleLogin(AdminAuthenticationProvider admin) {
            this.admin = admin;
        }

        @Override
        public Authentication authenticate(Authentication login) {
            String user = login.getName();
            if ((user == null || user.isBlank()) && admin.tokenConfigured()) {
                Object secret = login.getCredentials();
                return admin.authenticate(new PreAuthenticatedAuthenticationToken("admin-token",
                        secret == null ? "" : secret.toString()));
            }
            return admin.authenticate(login);
        }

        @Override
        public boolean supports(Class<?> authentication) {
            return admin.supports(authentication);
        }
    }

    /** A failed login redirects to {@code /console/login?error} and creates no session. */
    private static org.springframework.security.web.authentication.SimpleUrlAuthenticationFailureHandler failedLogin() {
        var h = new org.springframework.security.web.authentication.SimpleUrlAuthenticationFailureHandler(
                "/console/login?error");
        h.setAllowSessionCreation(false);
        return h;
    }
}
