package io.vectorsync.security;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vectorsync.config.AdminAuthProperties;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;

/** Registers {@link AdminAuthFilter} first in the chain, for every path (it picks the admin ones itself). */
@Configuration
public class AdminAuthConfig {

    @Bean
    FilterRegistrationBean<AdminAuthFilter> adminAuthFilter(AdminAuthProperties props, ObjectMapper json) {
        FilterRegistrationBean<AdminAuthFilter> reg = new FilterRegistrationBean<>(new AdminAuthFilter(props, json));
        reg.addUrlPatterns("/*");
        reg.setOrder(Ordered.HIGHEST_PRECEDENCE + 10);
        reg.setName("vectorsyncAdminAuth");
        return reg;
    }
}
