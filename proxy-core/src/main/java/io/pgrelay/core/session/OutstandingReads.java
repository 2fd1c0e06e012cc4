package io.pgrelay.core.session;

import io.pgrelay.core.route.ReplicaBalancer;

import java.util.Arrays;

/**
 * This session's part of the balancer's count of requests outstanding per replica, which
 * {@code routing.balance: least-outstanding} balances by: counted when a request goes to a
 * replica, uncounted when it is answered or lost.
 */
final class OutstandingReads {
    private final ReplicaBalancer balancer;
    private int[] counts = new int[4];

    OutstandingReads(ReplicaBalancer balancer) {
        this.balancer = balancer;
    }

    void sent(int node) {
        if (node >= counts.length) {
            counts = Arrays.copyOf(counts, Math.max(node + 1, counts.length * 2));
        }
        counts[node]++;
        balancer.started(node);
    }

    void answered(int node) {
        if (node < counts.length && counts[node] > 0) {
            counts[node]--;
            balancer.finished(node);
        }
    }

    /** The node's backend is gone with whatever it had outstanding. */
    void lost(int node) {
        while (node < counts.length && counts[node] > 0) {
            answered(node);
        }
    }

    void lostAll() {
        for (int node = 0; node < counts.length; node++) {
            lost(node);
        }
    }
}
