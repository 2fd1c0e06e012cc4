package io.pgrelay.core.cluster;

/**
 * What sessions ask of the monitor ({@link ClusterMonitor}): to look at a node now rather than
 * at its next scheduled probe, because a session saw it fail or change role.
 */
@FunctionalInterface
public interface NodeProbes {
    void probeSoon(int nodeIndex);
}
