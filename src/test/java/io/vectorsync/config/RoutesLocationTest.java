package io.vectorsync.config;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.mock.env.MockEnvironment;

/** Where the routes come from: a server never loads the device's sync routes, a device loads only them. */
class RoutesLocationTest {

    private static MockEnvironment located(String... profiles) {
        MockEnvironment env = new MockEnvironment();
        env.setActiveProfiles(profiles);
        new RoutesLocation().postProcessEnvironment(env, new SpringApplication());
        return env;
    }

    @Test
    void aServerLoadsEveryRoutesFileButTheSyncRoutes() {
        MockEnvironment env = located();
        assertThat(env.getProperty(RoutesLocation.PROPERTY)).endsWith("routes/*.camel.yaml");
        assertThat(env.getProperty(RoutesLocation.EXCLUDE)).isEqualTo("**/sync.camel.yaml");
    }

    @Test
    void aServerWithItsOwnRoutesFolderStillLeavesTheSyncRoutesOut() {
        MockEnvironment env = new MockEnvironment().withProperty(RoutesLocation.PROPERTY, "file:/elsewhere/*.camel.yaml");
        new RoutesLocation().postProcessEnvironment(env, new SpringApplication());
        assertThat(env.getProperty(RoutesLocation.PROPERTY)).isEqualTo("file:/elsewhere/*.camel.yaml");
        assertThat(env.getProperty(RoutesLocation.EXCLUDE)).isEqualTo("**/sync.camel.yaml");
    }

    @Test
    void aDeviceLoadsOnlyTheSyncRoutes() {
        MockEnvironment env = located(DeviceOnly.PROFILE);
        assertThat(env.getProperty(RoutesLocation.PROPERTY)).endsWith("routes/sync.camel.yaml");
        assertThat(env.getProperty(RoutesLocation.EXCLUDE)).isNull();
    }
}
