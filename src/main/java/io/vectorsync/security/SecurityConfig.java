package io.vectorsync.security;

import io.vectorsync.api.ApiErrors;
import io.vectorsync.config.AdminAuthProperties;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Locale;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.actuate.autoconfigure.security.servlet.EndpointRequest;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.security.authentication.AuthenticationManager;
import org.springframework.security.authentication.ProviderManager;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.annotation.web.configuration.EnableWebSecurity;
import org.springframework.security.config.annotation.web.configuration.WebSecurityCustomizer;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.web.DefaultSecurityFilterChain;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.access.AccessDeniedHandler;
import org.springframework.security.web.authentication.AuthenticationEntryPointFailureHandler;
import org.springframework.security.web.authentication.AuthenticationFilter;
import org.springframework.security.web.authentication.preauth.PreAuthenticatedAuthenticationToken;
import org.springframework.security.web.authentication.www.BasicAuthenticationFilter;
import org.springframework.security.web.firewall.RequestRejectedException;
import org.springframework.security.web.firewall.RequestRejectedHandler;
import org.springframework.security.web.firewall.StrictHttpFirewall;
import org.springframework.security.web.servlet.util.matcher.PathPatternRequestMatcher;
import org.springframework.security.web.util.matcher.AndRequestMatcher;
import org.springframework.security.web.util.matcher.NegatedRequestMatcher;
import org.springframework.security.web.util.matcher.RequestMatcher;
import org.springframework.web.filter.OncePerRequestFilter;
import org.springframework.web.util.ServletRequestPathUtils;

/**
 * Spring Security for the admin surface (ADR 013). Two filter chains:
 * <ol>
 * <li>the ingest API ({@code /api/**}, by the path Tomcat dispatches): open, with no filter at all, so the
 * hot path {@code PUT /api/v1/chunks/{id}} pays only the firewall;</li>
 * <li>everything else, on the main port and on a separate management port alike: the actuator endpoints
 * by {@link EndpointRequest} (so any {@code management.endpoints.web.base-path}, {@code path-mapping} or
 * {@code management.server.port} is covered; Jolokia and Hawtio are endpoints), health and Prometheus open,
 * every other endpoint, the admin API ({@code /admin/**}, by the same path patterns Spring MVC routes it
 * with) and any path not named here need the admin credential: HTTP basic or {@code Authorization: Bearer},
 * checked by {@link AdminAuthenticationProvider}; refusals by {@link AdminAuthEntryPoint}.</li>
 * </ol>
 * The status page ({@code /console}) has a chain of its own ahead of both, with a login form, a session and
 * a CSRF token ({@code io.vectorsync.console.ConsoleSecurityConfig}, ADR 029); these two never read its session.
 * The {@link StrictHttpFirewall} sees every request of both chains; it is configured to accept every chunk
 * id the API accepts (see {@link #firewall()}), and what it refuses is answered by {@link ApiErrors}, as
 * problem details.
 */
@Configuration
@EnableWebSecurity
public class SecurityConfig {

    private static final Logger log = LoggerFactory.getLogger(SecurityConfig.class);

    /** The methods the firewall lets through (its default); another one is answered 405. */
    private static final Set<String> METHODS = Set.of("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT");

    /** Open without credentials besides the ingest API: the OpenAPI document and the error page. */
    private static final String[] OPEN_PATHS = {"/v3/api-docs", "/v3/api-docs/**", "/v3/api-docs.yaml", "/error"};

    @Bean
    AdminAuthenticationProvider adminAuthenticationProvider(AdminAuthProperties props) {
        return new AdminAuthenticationProvider(props);
    }

    @Bean
    AdminCredentials adminCredentials(AdminAuthenticationProvider provider) {
        return new AdminCredentials(provider);
    }

    /**
     * The strict firewall, relaxed only as far as chunk ids need: an id may hold any character, so the API
     * takes it percent-encoded, {@code %2F} ('/', promised by the docs), {@code %2F%2F}, {@code %5C} ('\'),
     * {@code %25} ('%') and {@code %3B} (';') included; Tomcat passes {@code %2F} and {@code %5C} through
     * undecoded ({@code TomcatConfig}). What stays refused is what could make the path a guard sees differ
     * from the path Tomcat dispatches: a raw {@code ;} (path parameters, stripped before dispatch, so
     * {@code /actuator/health/..;/jolokia} would reach Jolokia), raw {@code .}/{@code ..} segments and
     * {@code //}, an encoded {@code .} ({@code %2E%2E} is decoded and then normalised by Tomcat), a raw
     * backslash, NUL, CR/LF, and control characters in headers and parameters.
     */
    @Bean
    StrictHttpFirewall firewall() {
        StrictHttpFirewall firewall = new StrictHttpFirewall();
        firewall.setAllowUrlEncodedSlash(true);
        firewall.setAllowUrlEncodedDoubleSlash(true);
        firewall.setAllowUrlEncodedPercent(true);
        firewall.setAllowBackSlash(true);
        firewall.setAllowSemicolon(true);
        // Only the encoded spellings were wanted: the raw characters go back on the lists. The encoded list
        // is matched against the raw URI, the decoded one against the servlet path Tomcat decoded (where
        // %3B is a ';' of the id and %5C stays "%5C").
        firewall.getEncodedUrlBlocklist().add(";");
        firewall.getEncodedUrlBlocklist().add("//");
        firewall.getEncodedUrlBlocklist().add("\\");
        firewall.getDecodedUrlBlocklist().add("\\");
        return firewall;
    }

    /**
     * The firewall's URI checks once more, first in the servlet chain: Spring Security parses the request
     * path (for its path-pattern matchers) before its own firewall runs, and that parse fails with an
     * exception, a 500, on some spellings the firewall refuses (a raw {@code ;} before a servlet's
     * mapping) and on a servlet's mapping spelled with escapes ({@code /actuator/%6Aolokia}, which Tomcat
     * decodes to Jolokia's mapping but the raw path does not start with). Refused here they get the
     * firewall's 400. Cheap: string scans of the URI, and a path parse only when it has an escape.
     */
    @Bean
    FilterRegistrationBean<OncePerRequestFilter> firewallFirst(StrictHttpFirewall firewall) {
        RequestRejectedHandler refuse = rejectedHandler();
        OncePerRequestFilter f = new OncePerRequestFilter() {
            @Override
            protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response,
                    FilterChain chain) throws ServletException, IOException {
                try {
                    firewall.getFirewalledRequest(request);
                    if (request.getRequestURI().indexOf('%') >= 0
                            && !ServletRequestPathUtils.hasParsedRequestPath(request)) {
                        try {
                            ServletRequestPathUtils.parseAndCache(request);
                        } catch (IllegalArgumentException unparsable) {
                            throw new RequestRejectedException("the raw path does not match its servlet's mapping");
                        } finally {
                            ServletRequestPathUtils.clearParsedRequestPath(request);
                        }
                    }
                } catch (RequestRejectedException e) {
                    refuse.handle(request, response, e);
                    return;
                }
                chain.doFilter(request, response);
            }
        };
        FilterRegistrationBean<OncePerRequestFilter> reg = new FilterRegistrationBean<>(f);
        reg.addUrlPatterns("/*");
        reg.setOrder(Ordered.HIGHEST_PRECEDENCE + 1); // after the TRACE refusal, before everything else
        reg.setName("vectorsyncFirewallFirst");
        return reg;
    }

    /** A request the firewall refuses: 405 for a method it does not know, else 400; nothing is echoed. */
    static RequestRejectedHandler rejectedHandler() {
        return (request, response, e) -> {
            log.debug("request refused by the firewall ({} {})", request.getMethod(), e.getClass().getSimpleName());
            if (!METHODS.contains(request.getMethod())) {
                response.setHeader("Allow", "GET, HEAD, POST, PUT, DELETE, OPTIONS");
                ApiErrors.write(request, response, 405, ApiErrors.forStatus(405));
            } else {
                // No instance: the path may be the very text refused, and is not echoed.
                ApiErrors.write(response, ApiErrors.problem(400, ApiErrors.requestRejected(), null));
            }
        };
    }

    /**
     * An authenticated call a rule refuses: a 403 as problem details (every operator has the one admin
     * authority, so today only a rule added later would get here; without this it would be Spring
     * Security's bare {@code sendError}).
     */
    static AccessDeniedHandler accessDeniedHandler() {
        return (request, response, e) -> ApiErrors.write(request, response, 403, ApiErrors.forStatus(403));
    }

    @Bean
    WebSecurityCustomizer vectorsyncFirewall(StrictHttpFirewall firewall) {
        return web -> web.httpFirewall(firewall).requestRejectedHandler(rejectedHandler());
    }

    /**
     * The ingest API: the path Tomcat dispatches (decoded, normalised, path parameters removed) under
     * {@code /api/}, and not an actuator endpoint (should the management base path be moved there). No
     * filters: nothing to authenticate, nothing to write.
     */
    @Bean
    @Order(1)
    SecurityFilterChain ingestChain() {
        RequestMatcher api = request -> dispatchedPath(request).startsWith("/api/");
        return new DefaultSecurityFilterChain(new AndRequestMatcher(api,
                new NegatedRequestMatcher(EndpointRequest.toAnyEndpoint())));
    }

    /** Everything else: the admin surface behind the admin credential (see the class comment). */
    @Bean
    @Order(2)
    SecurityFilterChain adminChain(HttpSecurity http, AdminAuthenticationProvider credentials) throws Exception {
        AdminAuthEntryPoint refusal = new AdminAuthEntryPoint(credentials);
        AuthenticationManager manager = new ProviderManager(credentials);
        AuthenticationFilter bearer = new AuthenticationFilter(manager, SecurityConfig::bearerToken);
        bearer.setSuccessHandler((request, response, authentication) -> { }); // go on down the chain
        bearer.setFailureHandler(new AuthenticationEntryPointFailureHandler(refusal));
        PathPatternRequestMatcher.Builder paths = PathPatternRequestMatcher.withDefaults();
        RequestMatcher[] open = new RequestMatcher[OPEN_PATHS.length];
        for (int i = 0; i < open.length; i++) {
            open[i] = paths.matcher(OPEN_PATHS[i]);
        }
        http.authenticationManager(manager)
                .csrf(c -> c.disable()) // credentials travel in a header, never in a cookie
                .requestCache(c -> c.disable())
                .sessionManagement(s -> s.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
                .logout(l -> l.disable())
                .headers(h -> h.frameOptions(f -> f.sameOrigin())) // as Hawtio's own header
                .httpBasic(b -> b.authenticationEntryPoint(refusal))
                .addFilterBefore(bearer, BasicAuthenticationFilter.class)
                .exceptionHandling(e -> e.authenticationEntryPoint(refusal)
                        .accessDeniedHandler(accessDeniedHandler()))
                .authorizeHttpRequests(a -> a
                        .dispatcherTypeMatchers(DispatcherType.ERROR).permitAll()
                        .requestMatchers(EndpointRequest.to("health", "prometheus")).permitAll()
                        .requestMatchers(EndpointRequest.toAnyEndpoint()).authenticated()
                        .requestMatchers(paths.matcher("/admin/**")).authenticated()
                        .requestMatchers(open).permitAll()
                        .anyRequest().authenticated());
        return http.build();
    }

    /** {@code Authorization: Bearer <token>} (any case of the scheme) as a token to check, else null. */
    static PreAuthenticatedAuthenticationToken bearerToken(HttpServletRequest request) {
        String header = request.getHeader("Authorization");
        if (header == null || header.length() < 7 || !header.substring(0, 7).toLowerCase(Locale.ROOT)
                .equals("bearer ")) {
            return null;
        }
        return new PreAuthenticatedAuthenticationToken(AdminAuthenticationProvider.TOKEN_PRINCIPAL,
                header.substring(7).trim());
    }

    /** The path Tomcat dispatches on: the decoded, normalised servlet path and path info. */
    static String dispatchedPath(HttpServletRequest request) {
        String info = request.getPathInfo();
        return info == null ? request.getServletPath() : request.getServletPath() + info;
    }
}
