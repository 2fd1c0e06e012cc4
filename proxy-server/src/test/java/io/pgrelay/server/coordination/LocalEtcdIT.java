package io.pgrelay.server.coordination;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.pgrelay.testkit.LocalEtcd;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The test harness's etcd cluster: three members that elect a leader, keep serving with two of
 * three (a killed or frozen one), stop serving without a quorum, and take a member back after a
 * restart. Talks to it through jetcd, as pgrelay does (so this also proves jetcd runs on our Netty).
 */
class LocalEtcdIT {
    private static LocalEtcd etcd;
    private static Client client;

    @BeforeAll
    static void start() {
        etcd = LocalEtcd.start(3);
        client = Client.builder().endpoints(etcd.endpoints().toArray(String[]::new)).build();
    }

    @AfterAll
    static void stop() {
        if (client != null) {
            client.close();
        }
        if (etcd != null) {
            etcd.close();
        }
    }

    private static void put(String key, String value, Duration timeout) throws Exception {
        client.getKVClient().put(bytes(key), bytes(value)).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * A put that may fail while the members elect a new leader ("etcdserver: request timed out" from a
     * follower whose proposal went to the killed or frozen leader) and succeeds once one is elected.
     */
    private static void putDuringElection(String key, String value, Duration within) throws Exception {
        long deadline = System.nanoTime() + within.toNanos();
        while (true) {
            try {
                put(key, value, Duration.ofSeconds(3));
                return;
            } catch (ExecutionException | TimeoutException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
            }
        }
    }

    /**
     * A linearizable read, retried for a while: the client may still be talking to a member that
     * is frozen or just lost its leader, and a read there waits until its own timeout.
     */
    private static String get(String key) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            try {
                var kvs = client.getKVClient().get(bytes(key)).get(3, TimeUnit.SECONDS).getKvs();
                return kvs.isEmpty() ? null : kvs.get(0).getValue().toString(StandardCharsets.UTF_8);
            } catch (ExecutionException | TimeoutException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
            }
        }
    }

    private static ByteSequence bytes(String text) {
        return ByteSequence.from(text, StandardCharsets.UTF_8);
    }

    @Test
    void threeMembersServeAndSurviveTheLossOfOne() throws Exception {
        assertThat(etcd.members()).hasSize(3).allSatisfy(member -> assertThat(member.healthy()).isTrue());
        put("/smoke/a", "1", Duration.ofSeconds(10));
        assertThat(get("/smoke/a")).isEqualTo("1");

        etcd.member(0).kill9();
        assertThat(etcd.member(0).isRunning()).isFalse();
        putDuringElection("/smoke/a", "2", Duration.ofSeconds(15)); // e1 may have been the leader
        assertThat(get("/smoke/a")).as("two of three keep the quorum").isEqualTo("2");

        etcd.member(0).start();
        etcd.awaitHealthy(Duration.ofSeconds(20));
        assertThat(etcd.member(0).healthy()).as("e1 rejoined with its data").isTrue();

        etcd.member(1).sigstop();
        try {
            putDuringElection("/smoke/a", "3", Duration.ofSeconds(15));
            assertThat(get("/smoke/a")).as("a frozen member does not stop the others").isEqualTo("3");
        } finally {
            etcd.member(1).sigcont();
        }
        etcd.awaitHealthy(Duration.ofSeconds(20));
    }

    @Test
    void withoutAQuorumWritesStopUntilItReturns() throws Exception {
        etcd.awaitHealthy(Duration.ofSeconds(20));
        etcd.member(1).stop();
        etcd.member(2).stop();
        try {
            assertThat(etcd.member(0).healthy()).as("one of three has no leader").isFalse();
            assertThatThrownBy(() -> put("/smoke/b", "lost", Duration.ofSeconds(2)))
                    .isInstanceOfAny(TimeoutException.class, ExecutionException.class);
        } finally {
            etcd.member(1).start();
            etcd.member(2).start();
        }
        etcd.awaitHealthy(Duration.ofSeconds(20));
        put("/smoke/b", "back", Duration.ofSeconds(10));
        assertThat(get("/smoke/b")).isEqualTo("back");
    }
}
