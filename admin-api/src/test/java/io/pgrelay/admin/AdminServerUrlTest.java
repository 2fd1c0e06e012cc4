package io.pgrelay.admin;

import io.pgrelay.core.config.HostPort;
import org.junit.jupiter.api.Test;

import java.net.URI;

import static org.assertj.core.api.Assertions.assertThat;

/** The URL the admin API logs at start: the configured host, the bound port, a well-formed authority. */
class AdminServerUrlTest {

    @Test
    void namesTheConfiguredHostWithTheBoundPort() {
        assertThat(AdminServer.url(HostPort.parse("127.0.0.1:0"), 43210)).isEqualTo("http://127.0.0.1:43210");
        assertThat(AdminServer.url(HostPort.parse("localhost:6480"), 6480)).isEqualTo("http://localhost:6480");
    }

    @Test
    void aWildcardStaysAsConfiguredInsteadOfTheSocketsIpv6Form() {
        assertThat(AdminServer.url(HostPort.parse("0.0.0.0:6480"), 6480)).isEqualTo("http://0.0.0.0:6480");
    }

    @Test
    void ipv6LiteralsAreBracketed() {
        for (String listen : new String[] {"[::]:6480", "[::1]:6480"}) {
            String url = AdminServer.url(HostPort.parse(listen), 6480);
            assertThat(url).doesNotContain("///");
            URI uri = URI.create(url);
            assertThat(uri.getPort()).as(url).isEqualTo(6480);
            assertThat(uri.getHost()).as(url).startsWith("[").endsWith("]");
        }
    }
}
