package io.pgrelay.testkit;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts a {@link LocalCluster} back into its initial topology after destructive operations
 * ({@link LocalCluster#resetToInitialTopology()} says how): the first node primary, every other
 * one a replica streaming from it, settings and replay pauses undone.
 */
final class TopologyReset {
    private static final Logger log = LoggerFactory.getLogger(TopologyReset.class);

    private final LocalCluster cluster;
    private final List<LocalNode> nodes;

    TopologyReset(LocalCluster cluster, List<LocalNode> nodes) {
        this.cluster = cluster;
        this.nodes = nodes;
    }

    void run() {
        long t0 = System.nanoTime();
        log.info("resetting to initial topology; before:\n{}", cluster.describe());
        LocalNode first = nodes.get(0);
        for (LocalNode n : nodes) {
            try {
                n.sigcont();
            } catch (RuntimeException e) {
                log.warn("{}: sigcont failed: {}", n.name(), e.getMessage());
            }
        }
        makePrimary(first);
        resetOverrides(first);
        for (LocalNode n : nodes.subList(1, nodes.size())) {
            makeReplicaOf(n, first);
            resetOverrides(n);
        }
        cluster.waitForReplication(Duration.ofSeconds(60));
        log.info("topology reset in {} ms:\n{}", (System.nanoTime() - t0) / 1_000_000, cluster.describe());
    }

    private void makePrimary(LocalNode first) {
        List<LocalNode> others = nodes.subList(1, nodes.size());
        if (!first.isRunning() && first.hasStandbySignal()) {
            startQuietly(first);
        }
        if (LocalCluster.isUp(first) && !LocalCluster.inRecoveryOrTrue(first)) {
            return;
        }
        Optional<LocalNode> otherPrimary = others.stream()
                .filter(n -> LocalCluster.isUp(n) && !LocalCluster.inRecoveryOrTrue(n)).findFirst();
        if (otherPrimary.isPresent()) {
            // switch over from the current primary, keeping its data
            LocalNode source = otherPrimary.get();
            boolean following = LocalCluster.isUp(first) && LocalCluster.inRecoveryOrTrue(first)
                    && awaitStreaming(first, source, Duration.ofSeconds(3));
            if (following) {
                resumeReplayQuietly(first);
            } else {
                first.rebuildAsReplicaOf(source);
            }
            first.waitForReplay(source.currentWalLsn(), Duration.ofSeconds(60));
            // a clean shutdown hands every connected standby all of the source's WAL, so the
            // remaining replicas can follow pg1's new timeline without a rebuild
            log.info("switching the primary role from {} back to {}", source.name(), first.name());
            source.stop();
            first.promote();
            return;
        }
        // nobody is primary: bring pg1 up and promote it if it comes up as a standby
        if (!first.isRunning()) {
            first.start();
        }
        if (first.isInRecovery()) {
            resumeReplayQuietly(first);
            first.promote();
        }
    }

    private void makeReplicaOf(LocalNode n, LocalNode primary) {
        if (!n.isRunning()) {
            if (!n.hasStandbySignal()) {
                // it would come up as a (diverged) primary
                n.rebuildAsReplicaOf(primary);
                return;
            }
            if (!startQuietly(n)) {
                n.rebuildAsReplicaOf(primary);
                return;
            }
        }
        if (!LocalCluster.inRecoveryOrTrue(n)) {
            n.rebuildAsReplicaOf(primary);
            return;
        }
        resumeReplayQuietly(n);
        if (awaitStreaming(n, primary, Duration.ofSeconds(3))) {
            return;
        }
        try {
            n.replication().repointTo(primary, Duration.ofSeconds(10));
        } catch (RuntimeException e) {
            log.warn("{}: repointing to {} failed ({}); rebuilding", n.name(), primary.name(),
                    firstLine(e.getMessage()));
            n.rebuildAsReplicaOf(primary);
        }
    }

    private static boolean startQuietly(LocalNode n) {
        try {
            n.start();
            return true;
        } catch (RuntimeException e) {
            log.warn("{}: cannot start ({})", n.name(), firstLine(e.getMessage()));
            return false;
        }
    }

    private static boolean awaitStreaming(LocalNode n, LocalNode primary, Duration timeout) {
        if (n.replication().upstreamPort() != primary.port()) {
            return false;
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (n.isStreamingFrom(primary)) {
                return true;
            }
            if (System.nanoTime() > deadline) {
                return false;
            }
            LocalNode.sleep(50);
        }
    }

    private static void resumeReplayQuietly(LocalNode n) {
        try {
            if (n.isReplayPaused()) {
                n.resumeReplay();
            }
        } catch (RuntimeException e) {
            log.debug("{}: resume replay: {}", n.name(), e.getMessage());
        }
    }

    private static void resetOverrides(LocalNode n) {
        for (String key : n.confOverrides()) {
            try {
                n.resetConf(key);
            } catch (RuntimeException e) {
                log.warn("{}: cannot reset {}: {}", n.name(), key, e.getMessage());
            }
        }
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
