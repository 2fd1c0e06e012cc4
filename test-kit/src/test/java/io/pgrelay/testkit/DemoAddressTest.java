package io.pgrelay.testkit;

import org.junit.jupiter.api.Test;

import java.net.URI;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The addresses the demo listens on and the URLs it prints for them. */
class DemoAddressTest {

    @Test
    void printsAWellFormedUrlForTheAdminAddress() {
        Demo.Address admin = Demo.Address.parse("127.0.0.1:6480", "--admin-listen");
        assertThat(admin.uri("")).hasToString("http://127.0.0.1:6480");
        assertThat(admin.uri("/healthz")).hasToString("http://127.0.0.1:6480/healthz");
        assertThat(admin.uri("/healthz").getHost()).isEqualTo("127.0.0.1");
        assertThat(admin.uri("/healthz").getPort()).isEqualTo(6480);
    }

    @Test
    void aWildcardIsReachedOverLoopback() {
        for (String wildcard : new String[] {"0.0.0.0:6480", "[::]:6480", ":::6480"}) {
            URI uri = Demo.Address.parse(wildcard, "--admin-listen").uri("/api/v1/cluster");
            assertThat(uri).as(wildcard).hasToString("http://127.0.0.1:6480/api/v1/cluster");
        }
    }

    @Test
    void ipv6HostsAreBracketedOnce() {
        assertThat(Demo.Address.parse("[::1]:6480", "--admin-listen").uri("/readyz"))
                .hasToString("http://[::1]:6480/readyz");
        URI bare = Demo.Address.parse("::1:6480", "--admin-listen").uri("/readyz");
        assertThat(bare).hasToString("http://[::1]:6480/readyz");
        assertThat(bare.getPort()).isEqualTo(6480);
    }

    @Test
    void consecutiveProxiesGetConsecutivePorts() {
        assertThat(Demo.Address.parse("127.0.0.1:6432", "--listen").plus(1)).hasToString("127.0.0.1:6433");
    }

    @Test
    void severalProxiesNeedRoomForTheirConsecutivePorts() {
        assertThat(Demo.Address.parse("127.0.0.1:65533", "--listen", 3).plus(2)).hasToString("127.0.0.1:65535");
        assertThatThrownBy(() -> Demo.Address.parse("127.0.0.1:65534", "--listen", 3))
                .hasMessageContaining("for 3 consecutive ports");
    }

    @Test
    void aPortIsRequired() {
        assertThatThrownBy(() -> Demo.Address.parse("127.0.0.1", "--listen")).hasMessageContaining("host:port");
        assertThatThrownBy(() -> Demo.Address.parse("127.0.0.1:0", "--listen")).hasMessageContaining("fixed port");
    }
}
