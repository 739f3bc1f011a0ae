-- 0006_merge: merged source catalogues: spatial attributes (CU6) and band merging (CU8).
--
-- * Programme gains the merge prescription (WSA columns): sourceTable, mergeLogTable and three
--   tolerances in DEGREES, as the WSA kept them (Programme.pairingCriterion "real, Degrees").
-- * RequiredFilters.nPass > 1 gives a band several epoch slots: LAS J is observed twice, so the
--   LAS merge has slots y, j_1, j_2, h, k (columns yAperMag3, j_1AperMag3, j_2AperMag3, ...).
-- * Each programme gets <prog>MergeLog (one row per frame set version) and <prog>Source (one row
--   per merged source), generated from RequiredFilters by curation.create_merge_tables below, as
--   the WSA generated its schema scripts from the prescriptions.
-- * The work itself runs here, next to the data, as functions in schema `curation`, which
--   dbrpcserver's callProcedure runs inside a curation step (docs/cu/cu6.md, docs/cu/cu8.md).
-- * Spatial attributes (cx, cy, cz, l, b) on every positional table: Detection, Source, MergeLog,
--   CurrentAstrometry. -0.9999995e9 (the WSA null) means "not computed yet": CU6 fills those, and
--   whatever moves a position (CU11) puts the default back so that CU6 computes them again.

CREATE SCHEMA IF NOT EXISTS curation;
GRANT USAGE ON SCHEMA curation TO wsa_reader;

-- ---------------------------------------------------------------------------------------------
-- Prescriptions

ALTER TABLE Programme
    ADD COLUMN sourceTable            varchar(64) NOT NULL DEFAULT 'NONE',  -- merged sources
    ADD COLUMN mergeLogTable          varchar(64) NOT NULL DEFAULT 'NONE',  -- frame sets
    ADD COLUMN frameSetTolerance      real NOT NULL DEFAULT -0.9999995e9,   -- degrees
    ADD COLUMN pairingCriterion       real NOT NULL DEFAULT -0.9999995e9,   -- degrees
    ADD COLUMN adjacentFrameTolerance real NOT NULL DEFAULT -0.9999995e9;   -- degrees

-- frameSetTolerance 20": frames of one pointing in different passbands (and the stacks made of
--   them) have centres within a few arcsec (pointing repeatability ~1", jitter and microstep
--   offsets up to ~6"), while neighbouring pointings are most of a detector apart (>= 87" even
--   for the simulator's smallest 256-pixel detectors; 12' for WFCAM's 2048).
-- pairingCriterion 1" (0.8" for the GPS): WFCAM positions agree between passbands to ~0.1" for
--   bright and ~0.3" for faint sources (0.4" pixels, 0.8-1" seeing), so 1" keeps faint pairs
--   while two distinct objects closer than 1" are blended anyway; the crowded Galactic plane
--   takes 0.8" to halve the chance pairings.
-- adjacentFrameTolerance 0.35 deg: frame sets whose centres are closer than a WFCAM detector's
--   diagonal (19.3') plus margin may overlap; only those are compared when seaming.
UPDATE Programme SET
    sourceTable = lower(name) || 'Source',
    mergeLogTable = lower(name) || 'MergeLog',
    frameSetTolerance = 20.0 / 3600,
    pairingCriterion = CASE name WHEN 'GPS' THEN 0.8 / 3600 ELSE 1.0 / 3600 END,
    adjacentFrameTolerance = 0.35
WHERE programmeID IN (101, 102, 103, 104, 105);

-- The LAS observes J twice (two epochs, for proper motions): slots j_1 and j_2.
UPDATE RequiredFilters SET nPass = 2 WHERE programmeID = 101 AND filterID = 3;

-- CU6 -> CU8 -> CU9 for every survey programme.
INSERT INTO RequiredCurationTask (programmeID, cuID, taskOrder)
SELECT programmeID, cu, cu FROM Programme, (VALUES (6), (8), (9)) AS t(cu)
WHERE programmeID > 0
ON CONFLICT DO NOTHING;

-- ---------------------------------------------------------------------------------------------
-- Spatial attributes: one definition, used by CU6 and by CU8 alike.

-- The unit vector of (ra, dec) in degrees.
CREATE FUNCTION curation.cx(alpha double precision, delta double precision) RETURNS double precision
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT cosd(delta) * cosd(alpha) $$;
CREATE FUNCTION curation.cy(alpha double precision, delta double precision) RETURNS double precision
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT cosd(delta) * sind(alpha) $$;
CREATE FUNCTION curation.cz(alpha double precision, delta double precision) RETURNS double precision
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT sind(delta) $$;

-- Galactic coordinates (degrees) of FK5 J2000 (ra, dec): the north Galactic pole at
-- (192.8594812065348, 27.12825118085622) and the longitude of the north celestial pole
-- 122.9319185680026, the constants astropy's FK5 -> Galactic transform uses. Written with atan2
-- throughout, so that both stay accurate near the poles.
CREATE FUNCTION curation.galactic_l(alpha double precision, delta double precision) RETURNS double precision
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT mod((122.9319185680026
                - atan2d(cosd(delta) * sind(alpha - 192.8594812065348),
                         sind(delta) * cosd(27.12825118085622)
                         - cosd(delta) * sind(27.12825118085622) * cosd(alpha - 192.8594812065348))
                + 720)::numeric, 360)::double precision
$$;
CREATE FUNCTION curation.galactic_b(alpha double precision, delta double precision) RETURNS double precision
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT atan2d(sind(delta) * sind(27.12825118085622)
                  + cosd(delta) * cosd(27.12825118085622) * cosd(alpha - 192.8594812065348),
                  sqrt((cosd(delta) * sind(alpha - 192.8594812065348)) ^ 2
                       + (sind(delta) * cosd(27.12825118085622)
                          - cosd(delta) * sind(27.12825118085622) * cosd(alpha - 192.8594812065348)) ^ 2))
$$;

ALTER TABLE CurrentAstrometry
    ADD COLUMN cx double precision NOT NULL DEFAULT -0.9999995e9,  -- unit vector of (centralRa, centralDec)
    ADD COLUMN cy double precision NOT NULL DEFAULT -0.9999995e9,
    ADD COLUMN cz double precision NOT NULL DEFAULT -0.9999995e9,
    ADD COLUMN l  double precision NOT NULL DEFAULT -0.9999995e9,  -- Galactic longitude (degrees)
    ADD COLUMN b  double precision NOT NULL DEFAULT -0.9999995e9;  -- Galactic latitude (degrees)

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['lasdetection', 'gpsdetection', 'gcsdetection', 'dxsdetection', 'udsdetection'] LOOP
        EXECUTE format($f$
            ALTER TABLE %I
                ADD COLUMN cx double precision NOT NULL DEFAULT -0.9999995e9,
                ADD COLUMN cy double precision NOT NULL DEFAULT -0.9999995e9,
                ADD COLUMN cz double precision NOT NULL DEFAULT -0.9999995e9,
                ADD COLUMN l  double precision NOT NULL DEFAULT -0.9999995e9,
                ADD COLUMN b  double precision NOT NULL DEFAULT -0.9999995e9
            $f$, t);
    END LOOP;
END $$;

-- Which detector frames CU6 has given spatial attributes (a frame's detections are done in one
-- step). CU11 deletes a frame's row when it moves its detections, so CU6 does them again.
CREATE TABLE SpatialIndexLog (
    multiframeID  bigint NOT NULL REFERENCES Multiframe ON DELETE CASCADE,
    tableName     varchar(64) NOT NULL,      -- the Detection table
    rowsUpdated   bigint NOT NULL,
    cuEventID     integer NOT NULL,
    PRIMARY KEY (multiframeID, tableName)
);

-- CU6 for the frames p_frames of programme p_programme: the spatial attributes of their
-- detections (those still at the default) and of their CurrentAstrometry rows, and a
-- SpatialIndexLog row per frame. Returns the detections updated.
CREATE FUNCTION curation.cu6_spatial(p_programme bigint, p_cu_event bigint, p_frames bigint[])
    RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    detections text;
    n bigint;
BEGIN
    SELECT lower(detectionTable) INTO detections FROM Programme WHERE programmeID = p_programme;
    IF detections IS NULL OR detections = 'NONE' THEN
        RAISE EXCEPTION 'cu6_spatial: programme % has no detection table', p_programme;
    END IF;
    EXECUTE format($q$
        UPDATE %I SET cx = curation.cx(ra, dec), cy = curation.cy(ra, dec), cz = curation.cz(ra, dec),
                      l = curation.galactic_l(ra, dec), b = curation.galactic_b(ra, dec)
        WHERE multiframeID = ANY($1) AND cx < -2 AND ra > -1e8
        $q$, detections) USING p_frames;
    GET DIAGNOSTICS n = ROW_COUNT;
    UPDATE CurrentAstrometry
    SET cx = curation.cx(centralRa, centralDec), cy = curation.cy(centralRa, centralDec),
        cz = curation.cz(centralRa, centralDec),
        l = curation.galactic_l(centralRa, centralDec), b = curation.galactic_b(centralRa, centralDec)
    WHERE multiframeID = ANY(p_frames) AND cx < -2 AND centralRa > -1e8;
    EXECUTE format($q$
        INSERT INTO SpatialIndexLog (multiframeID, tableName, rowsUpdated, cuEventID)
        SELECT f, %L, (SELECT count(*) FROM %I d WHERE d.multiframeID = f), $2
        FROM unnest($1::bigint[]) AS f
        ON CONFLICT (multiframeID, tableName) DO UPDATE
            SET rowsUpdated = EXCLUDED.rowsUpdated, cuEventID = EXCLUDED.cuEventID
        $q$, detections, detections) USING p_frames, p_cu_event::integer;
    RETURN n;
END $$;

-- ---------------------------------------------------------------------------------------------
-- The merge prescription, as rows.

-- The band slots of a programme's merge: one per RequiredFilters band and pass, in the WSA's
-- column order (filterID, then pass). `prefix` spells the columns (y, j_1, h2), `capPrefix` the
-- flags (newJ_1frame, listProcH2). `pairOrder` is the order CU8 pairs them in, the first being
-- the reference band whose position a source takes: broad bands of the first pass from red to
-- blue (K, H, J, Y, Z: WFCAM astrometry is tied to 2MASS in J, H, K, and the red bands suffer
-- least from extinction), then later passes (the second J epoch), then narrow bands (H2).
CREATE FUNCTION curation.merge_slots(p_programme bigint)
    RETURNS TABLE (slot integer, filterID smallint, pass integer, nPass integer, prefix text,
                   capPrefix text, isNarrowBand boolean, wavelength real, pairOrder integer)
    LANGUAGE sql STABLE AS $$
    SELECT s.slot, s.filterID, s.pass, s.nPass, s.prefix, s.capPrefix, s.isNarrowBand, s.wavelength,
           (row_number() OVER (ORDER BY s.isNarrowBand, s.pass, s.filterID DESC))::integer
    FROM (SELECT (row_number() OVER (ORDER BY r.filterID, g.pass))::integer AS slot, r.filterID,
                 g.pass, r.nPass::integer AS nPass,
                 lower(f.shortName) || CASE WHEN r.nPass > 1 THEN '_' || g.pass ELSE '' END AS prefix,
                 f.shortName || CASE WHEN r.nPass > 1 THEN '_' || g.pass ELSE '' END AS capPrefix,
                 f.isNarrowBand, f.centralWavelength AS wavelength
          FROM RequiredFilters r JOIN Filter f USING (filterID), generate_series(1, r.nPass) AS g(pass)
          WHERE r.programmeID = p_programme) s
$$;

-- The colours of a programme's sources, from the aperMag3 of two slots: each pair of broad
-- bands adjacent in wavelength (first pass), and each narrow band minus the broad band nearest
-- it in wavelength: LAS ymj_1Pnt, j_1mhPnt, hmkPnt as the WSA's lasSource; GPS jmhPnt, hmkPnt,
-- h2mkPnt.
CREATE FUNCTION curation.merge_colours(p_programme bigint)
    RETURNS TABLE (name text, slot1 integer, slot2 integer)
    LANGUAGE sql STABLE AS $$
    WITH s AS (SELECT * FROM curation.merge_slots(p_programme)),
    broad AS (SELECT *, lead(slot) OVER (ORDER BY wavelength) AS nextSlot
              FROM s WHERE NOT isNarrowBand AND pass = 1)
    SELECT b1.prefix || 'm' || b2.prefix || 'Pnt', b1.slot, b2.slot
    FROM broad b1 JOIN s b2 ON b2.slot = b1.nextSlot
    UNION ALL
    SELECT n.prefix || 'm' || nb.prefix || 'Pnt', n.slot, nb.slot
    FROM s n CROSS JOIN LATERAL (SELECT * FROM broad ORDER BY abs(broad.wavelength - n.wavelength), broad.slot LIMIT 1) nb
    WHERE n.isNarrowBand AND n.pass = 1
    ORDER BY 2, 3
$$;

-- The per-band columns of a Source table (the WSA's lasSource set that single-frame CASU
-- catalogues can fill), in order: suffix, type, default, description.
CREATE FUNCTION curation.source_band_columns()
    RETURNS TABLE (suffix text, sqlType text, defaultValue text, detectionExpr text, description text)
    LANGUAGE sql IMMUTABLE AS $$
    VALUES
        ('HallMag', 'real', '-0.9999995e9', 'hallMag', 'Total point source %s mag'),
        ('HallMagErr', 'real', '-0.9999995e9', 'hallMagErr', 'Error in total point source %s mag'),
        ('PetroMag', 'real', '-0.9999995e9', 'petroMag', 'Extended source %s mag (Petrosian)'),
        ('PetroMagErr', 'real', '-0.9999995e9', 'petroMagErr', 'Error in extended source %s mag (Petrosian)'),
        ('AperMag3', 'real', '-0.9999995e9', 'aperMag3', 'Default point/extended source %s aperture corrected mag (2.0 arcsec aperture diameter)'),
        ('AperMag3Err', 'real', '-0.9999995e9', 'aperMag3Err', 'Error in default point/extended source %s mag (2.0 arcsec aperture diameter)'),
        ('AperMag4', 'real', '-0.9999995e9', 'aperMag4', 'Extended source %s aperture corrected mag (2.8 arcsec aperture diameter)'),
        ('AperMag4Err', 'real', '-0.9999995e9', 'aperMag4Err', 'Error in extended source %s mag (2.8 arcsec aperture diameter)'),
        ('AperMag6', 'real', '-0.9999995e9', 'aperMag6', 'Extended source %s aperture corrected mag (5.7 arcsec aperture diameter)'),
        ('AperMag6Err', 'real', '-0.9999995e9', 'aperMag6Err', 'Error in extended source %s mag (5.7 arcsec aperture diameter)'),
        ('Gausig', 'real', '-0.9999995e9', 'gausig', 'RMS of axes of ellipse fit in %s (pixels)'),
        ('Ell', 'real', '-0.9999995e9', 'ell', '1-b/a, where a/b=semi-major/minor axes in %s'),
        ('PA', 'real', '-0.9999995e9', 'pa', 'ellipse fit celestial orientation in %s (degrees)'),
        ('ErrBits', 'integer', '-99999999', 'errBits', 'processing warning/error bitwise flags in %s'),
        ('Class', 'smallint', '-9999', 'class', 'discrete image classification flag in %s (-9999: no detection)'),
        ('ClassStat', 'real', '-0.9999995e9', 'classStat', 'N(0,1) stellarness-of-profile statistic in %s'),
        ('ppErrBits', 'integer', '-99999999', 'ppErrBits', 'additional WFAU post-processing error bits in %s'),
        ('SeqNum', 'integer', '-99999999', 'seqNum', 'the running number of the %s detection'),
        ('Xi', 'real', '-0.9999995e9', NULL, 'Offset of %s detection from master position (+east/-west, arcsec)'),
        ('Eta', 'real', '-0.9999995e9', NULL, 'Offset of %s detection from master position (+north/-south, arcsec)')
$$;

-- Creates <prog>MergeLog and <prog>Source of a programme from its prescription, with their keys,
-- q3c indexes and id sequences (frameSetID and sourceID are programmeID * 2^32 + n: unique over
-- the whole archive, the programme readable in the id, as the WSA's "programme ID prefix").
CREATE FUNCTION curation.create_merge_tables(p_programme bigint) RETURNS void
    LANGUAGE plpgsql AS $$
DECLARE
    prog record;
    s record;
    c record;
    ml text := '';
    src text := '';
BEGIN
    SELECT programmeID, lower(detectionTable) AS detectionTable, lower(sourceTable) AS sourceTable,
           lower(mergeLogTable) AS mergeLogTable, frameSetTolerance, pairingCriterion, adjacentFrameTolerance
    INTO prog FROM Programme WHERE programmeID = p_programme;
    FOR s IN SELECT * FROM curation.merge_slots(p_programme) ORDER BY slot LOOP
        ml := ml || format(
            '%I bigint NOT NULL DEFAULT -99999999, %I smallint NOT NULL DEFAULT -9999, '
            '%I smallint NOT NULL DEFAULT 0, %I smallint NOT NULL DEFAULT 0, ',
            lower(s.prefix || 'mfID'), lower(s.prefix || 'eNum'), lower('new' || s.capPrefix || 'frame'), lower('listProc' || s.capPrefix));
    END LOOP;
    EXECUTE format($q$
        CREATE TABLE %I (
            frameSetID     bigint PRIMARY KEY,          -- programmeID * 2^32 + n
            cuEventID      integer NOT NULL,
            ra             double precision NOT NULL,   -- field centre (degrees)
            dec            double precision NOT NULL,
            cx             double precision NOT NULL DEFAULT -0.9999995e9,
            cy             double precision NOT NULL DEFAULT -0.9999995e9,
            cz             double precision NOT NULL DEFAULT -0.9999995e9,
            l              double precision NOT NULL DEFAULT -0.9999995e9,
            b              double precision NOT NULL DEFAULT -0.9999995e9,
            %s
            mergeSwVersion varchar(32) NOT NULL DEFAULT 'NONE',
            newFrameSet    smallint NOT NULL DEFAULT 1,  -- 1 until CU9 has list-processed it
            deprecated     smallint NOT NULL DEFAULT 0   -- 1: superseded by a newer version
        )$q$, prog.mergeLogTable, ml);
    EXECUTE format('CREATE INDEX %I ON %I (q3c_ang2ipix(ra, dec)) WHERE deprecated = 0',
                   prog.mergeLogTable || '_q3c', prog.mergeLogTable);
    EXECUTE format('CREATE SEQUENCE curation.%I', prog.mergeLogTable || '_seq');
    EXECUTE format('CREATE SEQUENCE curation.%I', prog.sourceTable || '_seq');

    FOR c IN SELECT * FROM curation.merge_colours(p_programme) LOOP
        src := src || format('%I real NOT NULL DEFAULT -0.9999995e9, %I real NOT NULL DEFAULT -0.9999995e9, ',
                             lower(c.name), lower(c.name || 'Err'));
    END LOOP;
    src := src || 'mergedClassStat real NOT NULL DEFAULT -0.9999995e9, mergedClass smallint NOT NULL DEFAULT -9999, '
               || 'pStar real NOT NULL DEFAULT -0.9999995e9, pGalaxy real NOT NULL DEFAULT -0.9999995e9, '
               || 'pNoise real NOT NULL DEFAULT -0.9999995e9, pSaturated real NOT NULL DEFAULT -0.9999995e9, ';
    FOR s IN SELECT * FROM curation.merge_slots(p_programme) ORDER BY slot LOOP
        FOR c IN SELECT * FROM curation.source_band_columns() LOOP
            src := src || format('%I %s NOT NULL DEFAULT %s, ', lower(s.prefix || c.suffix), c.sqlType, c.defaultValue);
        END LOOP;
    END LOOP;
    src := left(src, length(src) - 2);
    EXECUTE format($q$
        CREATE TABLE %I (
            sourceID    bigint PRIMARY KEY,          -- programmeID * 2^32 + n
            cuEventID   integer NOT NULL,
            frameSetID  bigint NOT NULL,             -- <prog>MergeLog (no foreign key, as on the Detection
                                                     -- tables: cu8 writes both in one step, and a check per row
                                                     -- would cost more than writing the row)
            ra          double precision NOT NULL,   -- degrees (J2000), of the reference band
            dec         double precision NOT NULL,
            sigRa       real NOT NULL DEFAULT -0.9999995e9,  -- degrees
            sigDec      real NOT NULL DEFAULT -0.9999995e9,  -- degrees
            epoch       double precision NOT NULL DEFAULT -0.9999995e9,  -- Julian year of ra, dec
            cx          double precision NOT NULL DEFAULT -0.9999995e9,
            cy          double precision NOT NULL DEFAULT -0.9999995e9,
            cz          double precision NOT NULL DEFAULT -0.9999995e9,
            l           double precision NOT NULL DEFAULT -0.9999995e9,
            b           double precision NOT NULL DEFAULT -0.9999995e9,
            priOrSec    bigint NOT NULL DEFAULT -99999999,  -- 0 unique; else frameSetID of the primary; default: not seamed yet
            %s
        )$q$, prog.sourceTable, src);
    EXECUTE format('CREATE INDEX %I ON %I (q3c_ang2ipix(ra, dec))', prog.sourceTable || '_q3c', prog.sourceTable);
    EXECUTE format('CREATE INDEX %I ON %I (frameSetID)', prog.sourceTable || '_frameset', prog.sourceTable);
    -- The sources not seamed yet (few, except between a merge without seaming and its seams).
    EXECUTE format('CREATE INDEX %I ON %I (frameSetID) WHERE priOrSec = -99999999', prog.sourceTable || '_unseamed',
                   prog.sourceTable);
    EXECUTE format('GRANT SELECT ON %I, %I TO wsa_reader', prog.sourceTable, prog.mergeLogTable);
END $$;

SELECT curation.create_merge_tables(programmeID) FROM Programme WHERE programmeID IN (101, 102, 103, 104, 105);

-- ---------------------------------------------------------------------------------------------
-- Merged classification

-- The probabilities (star, galaxy, noise, saturated) one band's CASU class stands for. No entry
-- is zero, so that one band cannot veto the others (a product with a zero would).
CREATE FUNCTION curation.class_probabilities(class smallint) RETURNS double precision[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE class
        WHEN -1 THEN ARRAY[0.90, 0.05, 0.04, 0.01]   -- stellar
        WHEN -2 THEN ARRAY[0.70, 0.25, 0.04, 0.01]   -- probable star
        WHEN -3 THEN ARRAY[0.25, 0.70, 0.04, 0.01]   -- probable galaxy
        WHEN 1 THEN ARRAY[0.05, 0.90, 0.04, 0.01]    -- galaxy
        WHEN 0 THEN ARRAY[0.05, 0.05, 0.89, 0.01]    -- noise
        WHEN -9 THEN ARRAY[0.20, 0.01, 0.01, 0.78]   -- saturated
    END::double precision[]
$$;

-- The merged class of a source from the classes and statistics of its bands (-9999 / the real
-- default where a band has no detection). The probabilities of the bands are multiplied and
-- normalised (independent evidence); mergedClass is -9 if any band is saturated (its magnitudes
-- are then unreliable), else -1 / +1 / 0 when pStar / pGalaxy / pNoise reaches 0.9, else -2 / -3
-- for the likelier of star and galaxy. mergedClassStat combines the bands' N(0,1) statistics
-- as sum / sqrt(n) (Stouffer), which is again N(0,1).
CREATE FUNCTION curation.merged_class(classes smallint[], stats real[],
    OUT mergedClass smallint, OUT mergedClassStat real, OUT pStar real, OUT pGalaxy real,
    OUT pNoise real, OUT pSaturated real)
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    p double precision[] := ARRAY[1, 1, 1, 1];
    q double precision[];
    total double precision;
    n integer := 0;
    nStat integer := 0;
    statSum double precision := 0;
    saturated boolean := false;
BEGIN
    FOR i IN 1 .. coalesce(array_length(classes, 1), 0) LOOP
        q := curation.class_probabilities(classes[i]);
        CONTINUE WHEN q IS NULL;
        n := n + 1;
        saturated := saturated OR classes[i] = -9;
        p := ARRAY[p[1] * q[1], p[2] * q[2], p[3] * q[3], p[4] * q[4]];
        IF stats[i] > -1e8 THEN
            nStat := nStat + 1;
            statSum := statSum + stats[i];
        END IF;
    END LOOP;
    IF n = 0 THEN
        mergedClass := -9999; mergedClassStat := -0.9999995e9;
        pStar := -0.9999995e9; pGalaxy := -0.9999995e9; pNoise := -0.9999995e9; pSaturated := -0.9999995e9;
        RETURN;
    END IF;
    total := p[1] + p[2] + p[3] + p[4];
    pStar := p[1] / total; pGalaxy := p[2] / total; pNoise := p[3] / total; pSaturated := p[4] / total;
    mergedClass := CASE
        WHEN saturated THEN -9
        WHEN pStar >= 0.9 THEN -1
        WHEN pGalaxy >= 0.9 THEN 1
        WHEN pNoise >= 0.9 THEN 0
        WHEN pStar >= pGalaxy THEN -2
        ELSE -3 END;
    mergedClassStat := CASE WHEN nStat > 0 THEN statSum / sqrt(nStat) ELSE -0.9999995e9 END;
END $$;

-- Offsets (arcsec) of (ra, dec) from (ra0, dec0) on the tangent plane: xi east, eta north.
CREATE FUNCTION curation.xi(alpha double precision, delta double precision, alpha0 double precision, delta0 double precision)
    RETURNS double precision LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT 3600 * degrees(cosd(delta) * sind(alpha - alpha0)
                          / (sind(delta) * sind(delta0) + cosd(delta) * cosd(delta0) * cosd(alpha - alpha0)))
$$;
CREATE FUNCTION curation.eta(alpha double precision, delta double precision, alpha0 double precision, delta0 double precision)
    RETURNS double precision LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT 3600 * degrees((sind(delta) * cosd(delta0) - cosd(delta) * sind(delta0) * cosd(alpha - alpha0))
                          / (sind(delta) * sind(delta0) + cosd(delta) * cosd(delta0) * cosd(alpha - alpha0)))
$$;


-- ---------------------------------------------------------------------------------------------
-- CU8: frame sets

-- The frame sets of a programme that CU8 must (re)merge now, one row per slot frame chosen
-- (slot NULL for a current frame set that no longer has any frame: it is to be retired).
-- frameSetKey is the current frameSetID of a frame set that changes, or a negative number for
-- a new one.
--
-- The candidate frames: current detector frames of the programme's required passbands, normal
-- or stack, whose detections are loaded. A frame belongs to the current frame set whose centre
-- is nearest within frameSetTolerance; frames near none form new frame sets (swept in order of
-- declination: a frame joins the first new frame set whose first frame lies within the
-- tolerance). In each frame set, a slot of a band observed once (nPass 1) takes the deepest
-- stack, else the deepest single frame (then the best seeing, then the newest); slot n of a band
-- observed nPass > 1 times takes the deepest single frame of the n-th night on which that band
-- was observed there. A frame set is due when its choice differs from its current version.
-- Read-only, so that `curate` and `--dry-run` can ask it.
CREATE FUNCTION curation.cu8_plan(p_programme bigint)
    RETURNS TABLE (frameSetKey bigint, slot integer, multiframeID bigint, extNum smallint,
                   centralRa double precision, centralDec double precision, mjdObs double precision)
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    prog record;
    f record;
    s record;
    tol double precision;
    candidates text;
    unpivot text := '';
    new_mf bigint[] := '{}';
    new_ext smallint[] := '{}';
    new_key bigint[] := '{}';
    cl_ra double precision[] := '{}';
    cl_dec double precision[] := '{}';
    cl_key bigint[] := '{}';
    lo integer := 1;
    found boolean;
    next_key bigint := 0;
BEGIN
    SELECT programmeID, lower(detectionTable) AS detectionTable, lower(sourceTable) AS sourceTable,
           lower(mergeLogTable) AS mergeLogTable, frameSetTolerance, pairingCriterion, adjacentFrameTolerance
    INTO prog FROM Programme WHERE programmeID = p_programme;
    IF prog.programmeID IS NULL OR prog.mergeLogTable = 'NONE' THEN
        RAISE EXCEPTION 'cu8_plan: programme % has no merge log', p_programme;
    END IF;
    tol := prog.frameSetTolerance;
    candidates := format($q$
        SELECT d.multiframeID, d.extNum, m.filterID, m.frameType, a.centralRa, a.centralDec,
               d.totalExpTime, d.seeing, floor(m.mjdObs) AS night, m.mjdObs, near.frameSetID AS fs
        FROM Multiframe m
        JOIN MultiframeDetector d ON d.multiframeID = m.multiframeID
        JOIN CurrentAstrometry a ON a.multiframeID = d.multiframeID AND a.extNum = d.extNum
        JOIN CatalogueIngest c ON c.multiframeID = m.multiframeID
        LEFT JOIN LATERAL (
            SELECT ml.frameSetID FROM %1$I ml
            WHERE ml.deprecated = 0 AND q3c_join(a.centralRa, a.centralDec, ml.ra, ml.dec, %2$s)
            ORDER BY q3c_dist(a.centralRa, a.centralDec, ml.ra, ml.dec), ml.frameSetID LIMIT 1) near ON true
        WHERE m.programmeID = %3$s AND m.deprecated = 0 AND d.deprecated = 0
          AND m.frameType IN ('normal', 'stack') AND a.centralRa > -1e8
          AND m.filterID IN (SELECT r.filterID FROM RequiredFilters r WHERE r.programmeID = %3$s)
        $q$, prog.mergeLogTable, tol, p_programme);

    -- New frame sets: sweep the frames near no current frame set in order of declination.
    FOR f IN EXECUTE 'SELECT * FROM (' || candidates || ') x WHERE x.fs IS NULL ORDER BY x.centralDec, x.multiframeID, x.extNum' LOOP
        WHILE lo <= coalesce(array_length(cl_dec, 1), 0) AND cl_dec[lo] < f.centralDec - tol LOOP
            lo := lo + 1;
        END LOOP;
        found := false;
        FOR j IN lo .. coalesce(array_length(cl_dec, 1), 0) LOOP
            IF q3c_dist(f.centralRa, f.centralDec, cl_ra[j], cl_dec[j]) < tol THEN
                new_mf := new_mf || f.multiframeID; new_ext := new_ext || f.extNum; new_key := new_key || cl_key[j];
                found := true;
                EXIT;
            END IF;
        END LOOP;
        IF NOT found THEN
            next_key := next_key - 1;
            cl_ra := cl_ra || f.centralRa; cl_dec := cl_dec || f.centralDec; cl_key := cl_key || next_key;
            new_mf := new_mf || f.multiframeID; new_ext := new_ext || f.extNum; new_key := new_key || next_key;
        END IF;
    END LOOP;

    -- The current versions' slots, one row each.
    FOR s IN SELECT * FROM curation.merge_slots(p_programme) LOOP
        unpivot := unpivot || format(
            'SELECT frameSetID, %s AS slot, %I AS multiframeID, %I AS extNum FROM %I WHERE deprecated = 0 AND %I > 0 UNION ALL ',
            s.slot, lower(s.prefix || 'mfID'), lower(s.prefix || 'eNum'), prog.mergeLogTable, lower(s.prefix || 'mfID'));
    END LOOP;
    unpivot := unpivot || format('SELECT frameSetID, NULL, NULL, NULL FROM %I WHERE false', prog.mergeLogTable);

    RETURN QUERY EXECUTE format($q$
        WITH frames AS (%1$s),
        keyed AS (
            SELECT f.*, coalesce(f.fs, n.key) AS key
            FROM frames f
            LEFT JOIN unnest($1::bigint[], $2::smallint[], $3::bigint[]) AS n(multiframeID, extNum, key)
                ON n.multiframeID = f.multiframeID AND n.extNum = f.extNum),
        slots AS (SELECT * FROM curation.merge_slots(%2$s)),
        epochs AS (
            SELECT k.*, dense_rank() OVER (PARTITION BY k.key, k.filterID ORDER BY k.night) AS epoch
            FROM keyed k WHERE k.frameType = 'normal'),
        chosen AS (
            (SELECT DISTINCT ON (k.key, s.slot) k.key, s.slot, k.multiframeID, k.extNum, k.centralRa, k.centralDec, k.mjdObs
             FROM keyed k JOIN slots s ON s.filterID = k.filterID AND s.nPass = 1
             ORDER BY k.key, s.slot, (k.frameType = 'stack') DESC, k.totalExpTime DESC, k.seeing,
                      k.multiframeID DESC, k.extNum)
            UNION ALL
            (SELECT DISTINCT ON (e.key, s.slot) e.key, s.slot, e.multiframeID, e.extNum, e.centralRa, e.centralDec, e.mjdObs
             FROM epochs e JOIN slots s ON s.filterID = e.filterID AND s.nPass > 1 AND s.pass = e.epoch
             ORDER BY e.key, s.slot, e.totalExpTime DESC, e.seeing, e.multiframeID DESC, e.extNum)),
        current AS (%3$s),
        keys AS (SELECT key FROM chosen UNION SELECT frameSetID FROM current),
        due AS (
            SELECT k.key FROM keys k
            WHERE EXISTS ((SELECT c.slot, c.multiframeID, c.extNum FROM chosen c WHERE c.key = k.key
                           EXCEPT SELECT u.slot, u.multiframeID, u.extNum FROM current u WHERE u.frameSetID = k.key)
                          UNION ALL
                          (SELECT u.slot, u.multiframeID, u.extNum FROM current u WHERE u.frameSetID = k.key
                           EXCEPT SELECT c.slot, c.multiframeID, c.extNum FROM chosen c WHERE c.key = k.key)))
        SELECT d.key, c.slot, c.multiframeID, c.extNum, c.centralRa, c.centralDec, c.mjdObs
        FROM due d LEFT JOIN chosen c ON c.key = d.key
        ORDER BY d.key, c.slot
        $q$, candidates, p_programme, unpivot)
        USING new_mf, new_ext, new_key;
END $$;

-- ---------------------------------------------------------------------------------------------
-- CU8: the merge
--
-- cu8_merge merges a batch of frame sets in one call: over the whole sky, seamed in full (the
-- 4-argument form, what cu8 runs on one session), or only the frame sets whose centre lies in one
-- range of q3c ipix (the 7-argument form), for merging on several sessions at once. Pairing is per
-- frame set, so frame sets are independent; seaming reads the neighbours of a frame set. A range's
-- interior frame sets are seamed by the merge itself; those near its boundary are left for two
-- further calls: cu8_seam_mark, alone (the one step that writes across ranges), then cu8_seam per
-- range, at once on several sessions: each updates only the sources of its own range and reads
-- its neighbours across the boundary (the overlap margin, as LSST's Qserv keeps an overlap around
-- each chunk). docs/scale.md.
--
-- A source not seamed yet has priOrSec = -99999999 (the WSA default); cu8_due lists the frame
-- sets holding such sources, so that `curate` finishes a seaming a killed run left.

-- The direction (degrees) of a vector given by its components; the centre of a frame set is the
-- direction of the sum of its frames' centres' unit vectors.
CREATE FUNCTION curation.vector_ra(x double precision, y double precision, z double precision) RETURNS double precision
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT mod((atan2d(y, x) + 360)::numeric, 360)::double precision $$;
CREATE FUNCTION curation.vector_dec(x double precision, y double precision, z double precision) RETURNS double precision
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT atan2d(z, sqrt(x ^ 2 + y ^ 2)) $$;

-- Drops the scratch tables of cu8_merge and cu8_seam that exist (a call earlier in the same
-- transaction may have left them if it failed; they go at commit anyway).
CREATE FUNCTION curation.drop_cu8_scratch() RETURNS void LANGUAGE plpgsql AS $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['_cu8_all', '_cu8_centre', '_cu8_plan', '_cu8_fs', '_cu8_det', '_cu8_src', '_cu8_mdet',
                             '_cu8_pool', '_cu8_seamed', '_cu8_target'] LOOP
        IF to_regclass('pg_temp.' || t) IS NOT NULL THEN
            EXECUTE format('DROP TABLE pg_temp.%I', t);
        END IF;
    END LOOP;
END $$;

-- What CU8 has to do for a programme, one row per frame set, for `curate`, `--dry-run` and
-- cu8's own planning (read-only):
-- * seam false: the frame sets cu8_plan says are due, with the slot frames chosen (`frames`; 0
--   for a frame set to retire) and the centre cu8_merge gives them (the direction of the sum of
--   the chosen frames' centres; a retired one keeps its own);
-- * seam true: frame sets whose seaming is pending: current ones holding sources not seamed yet
--   (priOrSec = -99999999), and retired ones whose neighbours are still to be seamed
--   (deprecated = 2), both left by cu8_merge called with p_seam = 0.
-- ipix is q3c_ang2ipix of the centre: cu8 --sessions divides the work by ranges of it.
CREATE FUNCTION curation.cu8_due(p_programme bigint)
    RETURNS TABLE (frameSetKey bigint, frames integer, centreRa double precision, centreDec double precision,
                   ipix bigint, seam boolean)
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    prog record;
BEGIN
    SELECT programmeID, lower(sourceTable) AS sourceTable, lower(mergeLogTable) AS mergeLogTable
    INTO prog FROM Programme WHERE programmeID = p_programme;
    IF prog.programmeID IS NULL OR prog.mergeLogTable = 'none' THEN
        RAISE EXCEPTION 'cu8_due: programme % has no merge log', p_programme;
    END IF;
    RETURN QUERY EXECUTE format($q$
        WITH plan AS (SELECT * FROM curation.cu8_plan($1)),
        merge AS (
            SELECT p.frameSetKey, count(p.slot)::integer AS frames,
                   coalesce(curation.vector_ra(sum(curation.cx(p.centralRa, p.centralDec)),
                                               sum(curation.cy(p.centralRa, p.centralDec)),
                                               sum(curation.cz(p.centralRa, p.centralDec))), min(old.ra)) AS ra,
                   coalesce(curation.vector_dec(sum(curation.cx(p.centralRa, p.centralDec)),
                                                sum(curation.cy(p.centralRa, p.centralDec)),
                                                sum(curation.cz(p.centralRa, p.centralDec))), min(old.dec)) AS dec
            FROM plan p LEFT JOIN %1$I old ON old.frameSetID = p.frameSetKey
            GROUP BY p.frameSetKey),
        pending AS (
            SELECT ml.frameSetID, ml.ra, ml.dec FROM %1$I ml
            WHERE (ml.deprecated = 0 AND ml.frameSetID IN (SELECT s.frameSetID FROM %2$I s WHERE s.priOrSec = -99999999))
               OR ml.deprecated = 2)
        SELECT m.frameSetKey, m.frames, m.ra, m.dec, q3c_ang2ipix(m.ra, m.dec), false FROM merge m
        UNION ALL
        SELECT p.frameSetID, 0, p.ra, p.dec, q3c_ang2ipix(p.ra, p.dec), true FROM pending p
        WHERE p.frameSetID NOT IN (SELECT m.frameSetKey FROM merge m)
        ORDER BY 6, 1
        $q$, prog.mergeLogTable, prog.sourceTable) USING p_programme;
END $$;

-- The seaming rule, applied to the scratch table _cu8_pool (key, isNew, frameSetID, ra, dec,
-- nBands, centreDist, isTarget: sources, new ones of the calling merge or current ones, with
-- every counterpart a target may have): a target with a counterpart within p_radius in another
-- frame set of the pool is a duplicate; of each such group the primary is the one with most
-- bands, then the nearest to its frame set's centre, then of the lowest frameSetID; every
-- member's priOrSec is the primary's frameSetID, and priOrSec = 0 for a source seen once. So
-- (priOrSec = 0 OR priOrSec = frameSetID) selects every object once. Leaves the targets' values
-- in _cu8_seamed (key, isNew, priOrSec). (Returns nothing, so that callProcedure never calls it:
-- it works on the scratch of cu8_merge and cu8_seam.)
CREATE FUNCTION curation.cu8_seam_pool(p_radius double precision) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    CREATE INDEX ON _cu8_pool (q3c_ang2ipix(ra, dec));
    ANALYZE _cu8_pool;
    CREATE TEMP TABLE _cu8_seamed ON COMMIT DROP AS
    SELECT DISTINCT ON (g.isNew, g.key) g.key, g.isNew,
           CASE WHEN count(*) OVER (PARTITION BY g.isNew, g.key) = 1 THEN 0 ELSE g.frameSetID END AS priOrSec
    FROM (SELECT t.key, t.isNew, t.frameSetID, t.nBands, t.centreDist FROM _cu8_pool t WHERE t.isTarget
          UNION ALL
          SELECT t.key, t.isNew, o.frameSetID, o.nBands, o.centreDist
          FROM _cu8_pool t
          -- OFFSET 0: one q3c index lookup per target, never a comparison of every pair.
          CROSS JOIN LATERAL (SELECT o.frameSetID, o.nBands, o.centreDist FROM _cu8_pool o
                              WHERE q3c_join(t.ra, t.dec, o.ra, o.dec, p_radius) AND o.frameSetID <> t.frameSetID
                              OFFSET 0) o
          WHERE t.isTarget) g
    ORDER BY g.isNew, g.key, g.nBands DESC, g.centreDist, g.frameSetID;
END $$;

-- Merges up to p_max of the frame sets that cu8_plan says are due and whose centre (as cu8_due
-- gives it) lies in the q3c ipix range [p_ipix_lo, p_ipix_hi), in run p_cu_event, and returns how
-- many frame sets it merged or retired. For each: a new MergeLog row (a new frameSetID) with the
-- frames of its slots; the version it replaces marked deprecated = 1 and its sources deleted;
-- its detections paired into sources.
--
-- Seaming. A frame set that nothing outside the range may overlap (no current or due frame set
-- out of the range within adjacentFrameTolerance: always so for the whole sky) is "interior":
-- its sources are seamed before they are written, and so are the current sources near it. The
-- sources of the other frame sets are written with priOrSec = -99999999 (not seamed), a frame
-- set retired there is marked deprecated = 2 (its neighbours not seamed again yet), and neither
-- is touched outside the range: calls for disjoint ranges can run at once on separate sessions
-- (docs/scale.md). With p_seam <> 0 the call then finishes the seaming itself (cu8_seam_mark,
-- then cu8_seam of its range).
--
-- Pairing: slot by slot in pairOrder (curation.merge_slots), each slot's detections are paired
-- with the sources made so far in the same frame set when they are each other's nearest within
-- pairingCriterion (mutual nearest neighbours: a detection feeds at most one source, a source
-- takes at most one detection per slot); a detection left unpaired starts a source of its own.
-- A source's position (ra, dec, sigRa, sigDec, epoch) is that of its first detection in
-- pairOrder: the reference band. Per band: the detection's magnitudes, shape, class and flags,
-- and its offset from that position (xXi, xEta, arcsec); the WSA defaults where it has none.
CREATE FUNCTION curation.cu8_merge(p_programme bigint, p_cu_event bigint, p_max bigint, p_version text,
                                   p_ipix_lo bigint, p_ipix_hi bigint, p_seam bigint)
    RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    prog record;
    s record;
    c record;
    k text;
    radius double precision;
    tol double precision;
    id_prefix bigint := p_programme << 32;
    ml_seq text;
    src_seq text;
    merged bigint;
    ml_cols text := '';
    ml_vals text := '';
    ml_joins text := '';
    src_cols text := '';
    src_vals text := '';
    src_joins text := '';
    det_cols text;
    det_list text;
    nbands text := '0';
    prob_star text := '1::double precision';
    prob_galaxy text := '1::double precision';
    prob_noise text := '1::double precision';
    prob_saturated text := '1::double precision';
    n_class text := '0';
    n_stat text := '0';
    stat_sum text := '0::double precision';
    saturated text := 'false';
BEGIN
    SELECT programmeID, lower(detectionTable) AS detectionTable, lower(sourceTable) AS sourceTable,
           lower(mergeLogTable) AS mergeLogTable, frameSetTolerance, pairingCriterion, adjacentFrameTolerance
    INTO prog FROM Programme WHERE programmeID = p_programme;
    IF prog.programmeID IS NULL OR prog.sourceTable = 'none' THEN
        RAISE EXCEPTION 'cu8_merge: programme % has no source table', p_programme;
    END IF;
    IF p_ipix_lo IS NULL OR p_ipix_hi IS NULL OR p_ipix_lo >= p_ipix_hi THEN
        RAISE EXCEPTION USING ERRCODE = '22023',
            MESSAGE = format('cu8_merge: the ipix range [%s, %s) is empty', p_ipix_lo, p_ipix_hi);
    END IF;
    radius := prog.pairingCriterion;
    tol := prog.adjacentFrameTolerance;
    ml_seq := format('curation.%I', prog.mergeLogTable || '_seq');
    src_seq := format('curation.%I', prog.sourceTable || '_seq');
    PERFORM curation.drop_cu8_scratch();

    CREATE TEMP TABLE _cu8_all ON COMMIT DROP AS SELECT * FROM curation.cu8_plan(p_programme);

    -- The centre of every due frame set (as cu8_due gives it: the direction of the sum of its
    -- chosen frames' centres, or its own for one to retire), and whether it lies in the range.
    EXECUTE format($q$
        CREATE TEMP TABLE _cu8_centre ON COMMIT DROP AS
        SELECT c.*, q3c_ang2ipix(c.ra, c.dec) >= %2$s AND q3c_ang2ipix(c.ra, c.dec) < %3$s AS inRange
        FROM (SELECT a.frameSetKey, count(a.slot) > 0 AS hasFrames,
                     coalesce(curation.vector_ra(sum(curation.cx(a.centralRa, a.centralDec)),
                                                 sum(curation.cy(a.centralRa, a.centralDec)),
                                                 sum(curation.cz(a.centralRa, a.centralDec))), min(old.ra)) AS ra,
                     coalesce(curation.vector_dec(sum(curation.cx(a.centralRa, a.centralDec)),
                                                  sum(curation.cy(a.centralRa, a.centralDec)),
                                                  sum(curation.cz(a.centralRa, a.centralDec))), min(old.dec)) AS dec
              FROM _cu8_all a LEFT JOIN %1$I old ON old.frameSetID = a.frameSetKey
              GROUP BY a.frameSetKey) c
        $q$, prog.mergeLogTable, p_ipix_lo, p_ipix_hi);

    -- One row per frame set to change now (the first p_max in the range by key): its new
    -- frameSetID (none when it is retired), centre, and whether it is interior (below).
    EXECUTE format($q$
        CREATE TEMP TABLE _cu8_fs ON COMMIT DROP AS
        SELECT c.frameSetKey,
               CASE WHEN c.frameSetKey > 0 THEN c.frameSetKey END AS oldFrameSetID,
               CASE WHEN c.hasFrames THEN %1$s + nextval(%2$L) END AS frameSetID,
               c.ra, c.dec, true AS interior
        FROM (SELECT * FROM _cu8_centre WHERE inRange ORDER BY frameSetKey LIMIT %3$s) c
        $q$, id_prefix, ml_seq, greatest(p_max, 0));
    SELECT count(*) INTO merged FROM _cu8_fs;

    IF merged > 0 THEN
        -- Sorts and hashes of a step's detections in memory (until the end of the step).
        PERFORM set_config('work_mem', '256MB', true);
        IF p_ipix_lo > 0 OR p_ipix_hi < 9223372036854775807 THEN
            EXECUTE format($q$
                UPDATE _cu8_fs f SET interior = false
                WHERE EXISTS (SELECT 1 FROM %1$I ml
                              WHERE ml.deprecated = 0 AND q3c_join(f.ra, f.dec, ml.ra, ml.dec, %2$s)
                                AND NOT (q3c_ang2ipix(ml.ra, ml.dec) >= %3$s AND q3c_ang2ipix(ml.ra, ml.dec) < %4$s))
                   OR EXISTS (SELECT 1 FROM _cu8_centre c WHERE NOT c.inRange AND q3c_join(f.ra, f.dec, c.ra, c.dec, %2$s))
                $q$, prog.mergeLogTable, tol, p_ipix_lo, p_ipix_hi);
        END IF;
        CREATE TEMP TABLE _cu8_plan ON COMMIT DROP AS
            SELECT a.*, f.frameSetID AS fs, row_number() OVER (ORDER BY a.multiframeID, a.extNum) AS planNo
            FROM _cu8_all a JOIN _cu8_fs f ON f.frameSetKey = a.frameSetKey;

        -- The detections of the chosen frames, with every column a source takes from them and
        -- the probabilities (star, galaxy, noise, saturated) their class stands for, as
        -- curation.class_probabilities gives them (arrays indexed by class + 10; 1 for a class it
        -- does not know, which counts as no band: `known` 0). detNo orders them by frame and seqNum.
        SELECT string_agg(b.detectionExpr, ', ' ORDER BY b.detectionExpr) INTO det_list
        FROM (SELECT DISTINCT lower(detectionExpr) AS detectionExpr FROM curation.source_band_columns()
              WHERE detectionExpr IS NOT NULL AND lower(detectionExpr) <> 'seqnum') b;
        det_list := 'detNo, fs, slot, seqNum, ra, dec, cosDec, sinDec, xErr, yErr, xPixSize, mjdObs, pS, pG, pN, pT, known, '
                    || det_list;
        SELECT string_agg(format('d.%I', b.detectionExpr), ', ' ORDER BY b.detectionExpr) INTO det_cols
        FROM (SELECT DISTINCT lower(detectionExpr) AS detectionExpr FROM curation.source_band_columns()
              WHERE detectionExpr IS NOT NULL AND lower(detectionExpr) <> 'seqnum') b;
        EXECUTE format($q$
            CREATE TEMP TABLE _cu8_det ON COMMIT DROP AS
            SELECT p.planNo * 16777216 + d.seqNum AS detNo, p.fs, p.slot, d.seqNum,
                   d.ra, d.dec, cosd(d.dec) AS cosDec, sind(d.dec) AS sinDec, d.xErr, d.yErr, a.xPixSize, p.mjdObs,
                   d.cx, d.cy, d.cz, d.l, d.b,
                   coalesce(('{0.20,NULL,NULL,NULL,NULL,NULL,0.25,0.70,0.90,0.05,0.05}'::double precision[])[d.class + 10], 1) AS pS,
                   coalesce(('{0.01,NULL,NULL,NULL,NULL,NULL,0.70,0.25,0.05,0.05,0.90}'::double precision[])[d.class + 10], 1) AS pG,
                   coalesce(('{0.01,NULL,NULL,NULL,NULL,NULL,0.04,0.04,0.04,0.89,0.04}'::double precision[])[d.class + 10], 1) AS pN,
                   coalesce(('{0.78,NULL,NULL,NULL,NULL,NULL,0.01,0.01,0.01,0.01,0.01}'::double precision[])[d.class + 10], 1) AS pT,
                   coalesce(('{1,0,0,0,0,0,1,1,1,1,1}'::integer[])[d.class + 10], 0) AS known,
                   %2$s
            FROM _cu8_plan p
            JOIN %1$I d ON d.multiframeID = p.multiframeID AND d.extNum = p.extNum
            JOIN CurrentAstrometry a ON a.multiframeID = p.multiframeID AND a.extNum = p.extNum
            WHERE p.slot IS NOT NULL AND d.ra > -1e8
            $q$, prog.detectionTable, det_cols);
        IF EXISTS (SELECT 1 FROM _cu8_det WHERE seqNum < 0 OR seqNum >= 16777216) THEN
            RAISE EXCEPTION 'cu8_merge: a detection of programme % has a seqNum outside 0 .. 2^24 - 1', p_programme;
        END IF;
        CREATE INDEX ON _cu8_det (slot);
        ANALYZE _cu8_det;
        -- The sources made so far: the position, its error and epoch, of the reference detection.
        -- (cx, cy, cz, l, b: the detection's, which CU6 computes with the same functions, or the
        -- default -0.9999995e9 where it has not yet.)
        CREATE TEMP TABLE _cu8_src (srcNo bigint NOT NULL, fs bigint NOT NULL, ra double precision NOT NULL,
                                    dec double precision NOT NULL, cosDec double precision, sinDec double precision,
                                    sig double precision, epoch double precision, cx double precision, cy double precision,
                                    cz double precision, l double precision, b double precision)
            ON COMMIT DROP;
        CREATE INDEX ON _cu8_src (fs, dec);
        -- Each source's detections, slot by slot (srcNo, then the columns of _cu8_det).
        CREATE TEMP TABLE _cu8_mdet ON COMMIT DROP AS SELECT NULL::bigint AS srcNo, d.* FROM _cu8_det d WHERE false;

        -- Pairing, slot by slot: the mutual nearest pairs, then a source for every detection of
        -- the slot left unpaired (the statement sees _cu8_src as it was before it).
        FOR s IN SELECT * FROM curation.merge_slots(p_programme) ORDER BY pairOrder LOOP
            ANALYZE _cu8_src;
            EXECUTE format($q$
                WITH pairs AS (
                    SELECT r.srcNo, r.detNo
                    FROM (SELECT x.srcNo, d.detNo,
                                 row_number() OVER (PARTITION BY x.srcNo ORDER BY x.dist, d.detNo) AS r1,
                                 row_number() OVER (PARTITION BY d.detNo ORDER BY x.dist, x.srcNo) AS r2
                          FROM _cu8_det d
                          -- The sources of the frame set within the radius: one index range scan
                          -- per detection (the strip of declination), then q3c_join's own test of
                          -- the distance. (OFFSET 0 keeps it a lookup per detection: joined on the
                          -- frame set instead, the planner would compare every pair of a frame set.)
                          CROSS JOIN LATERAL (SELECT x.srcNo, q3c_dist(d.ra, d.dec, x.ra, x.dec) AS dist FROM _cu8_src x
                                              WHERE x.fs = d.fs AND x.dec BETWEEN d.dec - %4$s AND d.dec + %4$s
                                                AND q3c_sindist(d.ra, d.dec, x.ra, x.dec) < pow(sin(radians(%4$s) / 2), 2)
                                              OFFSET 0) x
                          WHERE d.slot = %2$s) r
                    WHERE r.r1 = 1 AND r.r2 = 1),
                paired AS (
                    INSERT INTO _cu8_mdet (srcNo, %1$s)
                    SELECT p.srcNo, %3$s FROM pairs p JOIN _cu8_det d ON d.detNo = p.detNo AND d.slot = %2$s),
                single AS (
                    SELECT d.* FROM _cu8_det d WHERE d.slot = %2$s AND d.detNo NOT IN (SELECT p.detNo FROM pairs p)),
                made AS (
                    INSERT INTO _cu8_src (srcNo, fs, ra, dec, cosDec, sinDec, sig, epoch, cx, cy, cz, l, b)
                    SELECT d.detNo, d.fs, d.ra, d.dec, d.cosDec, d.sinDec,
                           CASE WHEN d.xErr > 0 AND d.yErr > 0 AND d.xPixSize > 0
                                THEN sqrt((d.xErr ^ 2 + d.yErr ^ 2) / 2) * d.xPixSize / 3600 ELSE -0.9999995e9 END,
                           2000 + (d.mjdObs - 51544.5) / 365.25, d.cx, d.cy, d.cz, d.l, d.b
                    FROM single d)
                INSERT INTO _cu8_mdet (srcNo, %1$s) SELECT d.detNo, %5$s FROM single d
                $q$, det_list, s.slot, 'd.' || replace(det_list, ', ', ', d.'), radius, 'd.' || replace(det_list, ', ', ', d.'));
        END LOOP;
        ANALYZE _cu8_src;
        ANALYZE _cu8_mdet;

        -- The seaming of the interior frame sets, before their sources are written. The pool:
        -- the new sources, and the current ones of every frame set that may overlap a target;
        -- the targets: the new sources of interior frame sets, and the seamed current sources of
        -- the frame sets within adjacentFrameTolerance of an interior one that changed (those
        -- waiting for cu8_seam are left to it).
        FOR s IN SELECT * FROM curation.merge_slots(p_programme) LOOP
            nbands := nbands || format(' + CASE WHEN s.%I <> -99999999 THEN 1 ELSE 0 END', lower(s.prefix || 'SeqNum'));
        END LOOP;
        IF EXISTS (SELECT 1 FROM _cu8_fs WHERE interior) THEN
            EXECUTE format($q$
                CREATE TEMP TABLE _cu8_pool ON COMMIT DROP AS
                WITH changed AS (SELECT f.ra, f.dec FROM _cu8_fs f WHERE f.interior),
                replaced AS (SELECT f.oldFrameSetID FROM _cu8_fs f WHERE f.oldFrameSetID IS NOT NULL),
                target AS (
                    SELECT DISTINCT ml.frameSetID, ml.ra, ml.dec
                    FROM changed c JOIN %1$I ml ON ml.deprecated = 0 AND q3c_join(c.ra, c.dec, ml.ra, ml.dec, %3$s)
                    WHERE ml.frameSetID NOT IN (SELECT r.oldFrameSetID FROM replaced r)),
                near AS (
                    SELECT DISTINCT ml.frameSetID
                    FROM (SELECT t.ra, t.dec FROM target t UNION ALL SELECT f.ra, f.dec FROM _cu8_fs f) t
                    JOIN %1$I ml ON ml.deprecated = 0 AND q3c_join(t.ra, t.dec, ml.ra, ml.dec, %3$s)
                    WHERE ml.frameSetID NOT IN (SELECT r.oldFrameSetID FROM replaced r))
                SELECT x.srcNo AS key, true AS isNew, x.fs AS frameSetID, x.ra, x.dec, nb.nBands,
                       q3c_dist(x.ra, x.dec, f.ra, f.dec) AS centreDist, f.interior AS isTarget
                FROM _cu8_src x JOIN _cu8_fs f ON f.frameSetID = x.fs
                JOIN (SELECT m.srcNo, count(*)::integer AS nBands FROM _cu8_mdet m GROUP BY m.srcNo) nb ON nb.srcNo = x.srcNo
                UNION ALL
                SELECT s.sourceID, false, s.frameSetID, s.ra, s.dec, %4$s, q3c_dist(s.ra, s.dec, ml.ra, ml.dec),
                       s.priOrSec <> -99999999 AND s.frameSetID IN (SELECT t.frameSetID FROM target t)
                FROM near JOIN %1$I ml ON ml.frameSetID = near.frameSetID JOIN %2$I s ON s.frameSetID = near.frameSetID
                $q$, prog.mergeLogTable, prog.sourceTable, tol, nbands);
            PERFORM curation.cu8_seam_pool(radius);
        ELSE
            CREATE TEMP TABLE _cu8_seamed (key bigint, isNew boolean, priOrSec bigint) ON COMMIT DROP;
        END IF;

        -- The new MergeLog rows.
        FOR s IN SELECT * FROM curation.merge_slots(p_programme) ORDER BY slot LOOP
            k := s.slot::text;
            ml_cols := ml_cols || format('%I, %I, %I, ', lower(s.prefix || 'mfID'), lower(s.prefix || 'eNum'), lower('new' || s.capPrefix || 'frame'));
            ml_vals := ml_vals || format(
                'coalesce(p%1$s.multiframeID, -99999999), coalesce(p%1$s.extNum, -9999), '
                'CASE WHEN p%1$s.multiframeID IS NOT NULL AND (old.%2$I IS NULL OR old.%2$I <> p%1$s.multiframeID '
                'OR old.%3$I <> p%1$s.extNum) THEN 1 ELSE 0 END, ',
                k, lower(s.prefix || 'mfID'), lower(s.prefix || 'eNum'));
            ml_joins := ml_joins || format(
                ' LEFT JOIN _cu8_plan p%1$s ON p%1$s.frameSetKey = f.frameSetKey AND p%1$s.slot = %1$s', k);
        END LOOP;
        EXECUTE format($q$
            INSERT INTO %1$I (frameSetID, cuEventID, ra, dec, cx, cy, cz, l, b, %2$s mergeSwVersion)
            SELECT f.frameSetID, %3$s, f.ra, f.dec, curation.cx(f.ra, f.dec), curation.cy(f.ra, f.dec),
                   curation.cz(f.ra, f.dec), curation.galactic_l(f.ra, f.dec), curation.galactic_b(f.ra, f.dec),
                   %4$s %5$L
            FROM _cu8_fs f LEFT JOIN %1$I old ON old.frameSetID = f.oldFrameSetID %6$s
            WHERE f.frameSetID IS NOT NULL
            $q$, prog.mergeLogTable, ml_cols, p_cu_event, ml_vals, left(p_version, 32), ml_joins);

        -- The new sources.
        FOR s IN SELECT * FROM curation.merge_slots(p_programme) ORDER BY slot LOOP
            k := s.slot::text;
            src_joins := src_joins || format(' LEFT JOIN _cu8_mdet d%1$s ON d%1$s.srcNo = x.srcNo AND d%1$s.slot = %1$s', k);
            FOR c IN SELECT * FROM curation.source_band_columns() LOOP
                src_cols := src_cols || quote_ident(lower(s.prefix || c.suffix)) || ', ';
                IF c.detectionExpr IS NOT NULL THEN
                    src_vals := src_vals || format('coalesce(d%s.%s, %s), ', k, c.detectionExpr, c.defaultValue);
                -- curation.xi and curation.eta of the detection about the source's position,
                -- written out with the sines and cosines of the declinations computed once.
                ELSIF c.suffix = 'Xi' THEN
                    src_vals := src_vals || format(
                        'coalesce(3600 * degrees(d%1$s.cosDec * sind(d%1$s.ra - x.ra) / (d%1$s.sinDec * x.sinDec '
                        '+ d%1$s.cosDec * x.cosDec * cosd(d%1$s.ra - x.ra))), -0.9999995e9), ', k);
                ELSE
                    src_vals := src_vals || format(
                        'coalesce(3600 * degrees((d%1$s.sinDec * x.cosDec - d%1$s.cosDec * x.sinDec * cosd(d%1$s.ra - x.ra)) '
                        '/ (d%1$s.sinDec * x.sinDec + d%1$s.cosDec * x.cosDec * cosd(d%1$s.ra - x.ra))), -0.9999995e9), ', k);
                END IF;
            END LOOP;
            -- curation.merged_class written out (a call per source costs more than the rest of
            -- its row): the bands' probabilities (_cu8_det) multiplied and summed in the same order.
            prob_star := prob_star || format(' * coalesce(d%s.pS, 1)', k);
            prob_galaxy := prob_galaxy || format(' * coalesce(d%s.pG, 1)', k);
            prob_noise := prob_noise || format(' * coalesce(d%s.pN, 1)', k);
            prob_saturated := prob_saturated || format(' * coalesce(d%s.pT, 1)', k);
            n_class := n_class || format(' + coalesce(d%s.known, 0)', k);
            n_stat := n_stat || format(' + CASE WHEN d%1$s.classStat > -1e8 THEN d%1$s.known ELSE 0 END', k);
            stat_sum := stat_sum || format(' + CASE WHEN d%1$s.classStat > -1e8 AND d%1$s.known = 1 THEN d%1$s.classStat ELSE 0 END', k);
            saturated := saturated || format(' OR coalesce(d%s.class = -9, false)', k);
        END LOOP;
        FOR c IN SELECT * FROM curation.merge_colours(p_programme) LOOP
            src_cols := src_cols || quote_ident(lower(c.name)) || ', ' || quote_ident(lower(c.name || 'Err')) || ', ';
            src_vals := src_vals || format(
                'CASE WHEN d%1$s.aperMag3 > -1e8 AND d%2$s.aperMag3 > -1e8 THEN d%1$s.aperMag3 - d%2$s.aperMag3 ELSE -0.9999995e9 END, '
                'CASE WHEN d%1$s.aperMag3 > -1e8 AND d%2$s.aperMag3 > -1e8 AND d%1$s.aperMag3Err >= 0 AND d%2$s.aperMag3Err >= 0 '
                'THEN sqrt(d%1$s.aperMag3Err ^ 2 + d%2$s.aperMag3Err ^ 2) ELSE -0.9999995e9 END, ',
                c.slot1, c.slot2);
        END LOOP;
        EXECUTE format($q$
            INSERT INTO %1$I (sourceID, cuEventID, frameSetID, ra, dec, sigRa, sigDec, epoch, cx, cy, cz, l, b,
                              priOrSec, %2$s mergedClass, mergedClassStat, pStar, pGalaxy, pNoise, pSaturated)
            SELECT %3$s + nextval(%4$L), %5$s, x.fs, x.ra, x.dec, x.sig, x.sig, x.epoch,
                   CASE WHEN x.cx > -2 THEN x.cx ELSE curation.cx(x.ra, x.dec) END,
                   CASE WHEN x.cx > -2 THEN x.cy ELSE curation.cy(x.ra, x.dec) END,
                   CASE WHEN x.cx > -2 THEN x.cz ELSE curation.cz(x.ra, x.dec) END,
                   CASE WHEN x.cx > -2 THEN x.l ELSE curation.galactic_l(x.ra, x.dec) END,
                   CASE WHEN x.cx > -2 THEN x.b ELSE curation.galactic_b(x.ra, x.dec) END,
                   coalesce(sm.priOrSec, -99999999), %6$s
                   CASE WHEN mc.n = 0 THEN -9999 WHEN mc.saturated THEN -9 WHEN mc.pStar >= 0.9 THEN -1
                        WHEN mc.pGalaxy >= 0.9 THEN 1 WHEN mc.pNoise >= 0.9 THEN 0 WHEN mc.pStar >= mc.pGalaxy THEN -2
                        ELSE -3 END,
                   CASE WHEN mc.n > 0 AND mc.nStat > 0 THEN mc.statSum / sqrt(mc.nStat) ELSE -0.9999995e9 END,
                   CASE WHEN mc.n > 0 THEN mc.pStar ELSE -0.9999995e9 END, CASE WHEN mc.n > 0 THEN mc.pGalaxy ELSE -0.9999995e9 END,
                   CASE WHEN mc.n > 0 THEN mc.pNoise ELSE -0.9999995e9 END, CASE WHEN mc.n > 0 THEN mc.pSaturated ELSE -0.9999995e9 END
            FROM _cu8_src x LEFT JOIN _cu8_seamed sm ON sm.isNew AND sm.key = x.srcNo %7$s
            CROSS JOIN LATERAL (
                SELECT (p.s / p.total)::real AS pStar, (p.g / p.total)::real AS pGalaxy, (p.z / p.total)::real AS pNoise,
                       (p.t / p.total)::real AS pSaturated, p.n, p.nStat, p.statSum, p.saturated
                FROM (SELECT q.s, q.g, q.z, q.t, q.s + q.g + q.z + q.t AS total, q.n, q.nStat, q.statSum, q.saturated
                      FROM (SELECT %8$s AS s, %9$s AS g, %10$s AS z, %11$s AS t, %12$s AS n, %13$s AS nStat,
                                   %14$s AS statSum, %15$s AS saturated) q) p
                OFFSET 0) mc  -- evaluated once per source, not once per use
            $q$, prog.sourceTable, src_cols, id_prefix, src_seq, p_cu_event, src_vals, src_joins,
            prob_star, prob_galaxy, prob_noise, prob_saturated, n_class, n_stat, stat_sum, saturated);

        -- The current sources seamed again around interior frame sets, where it changed.
        EXECUTE format($q$
            UPDATE %I s SET priOrSec = r.priOrSec FROM _cu8_seamed r
            WHERE NOT r.isNew AND s.sourceID = r.key AND s.priOrSec IS DISTINCT FROM r.priOrSec
            $q$, prog.sourceTable);

        -- The versions replaced: deprecated, their sources gone (the detections keep everything).
        -- A frame set retired outside the interior is marked 2 until its neighbours are seamed.
        EXECUTE format('DELETE FROM %I WHERE frameSetID IN (SELECT oldFrameSetID FROM _cu8_fs WHERE oldFrameSetID IS NOT NULL)',
                       prog.sourceTable);
        EXECUTE format($q$
            UPDATE %I ml SET deprecated = CASE WHEN f.frameSetID IS NULL AND NOT f.interior THEN 2 ELSE 1 END
            FROM _cu8_fs f WHERE ml.frameSetID = f.oldFrameSetID
            $q$, prog.mergeLogTable);
    END IF;

    PERFORM curation.drop_cu8_scratch();
    IF p_seam <> 0 THEN
        PERFORM curation.cu8_seam_mark(p_programme);
        PERFORM curation.cu8_seam(p_programme, p_ipix_lo, p_ipix_hi);
    END IF;
    RETURN merged;
END $$;

-- The whole merge of up to p_max due frame sets, seaming included: cu8_merge over the whole sky.
CREATE FUNCTION curation.cu8_merge(p_programme bigint, p_cu_event bigint, p_max bigint, p_version text)
    RETURNS bigint LANGUAGE sql AS $$
    SELECT curation.cu8_merge(p_programme, p_cu_event, p_max, p_version, 0, 9223372036854775807, 1)
$$;

-- The seaming that crosses ipix ranges, first part: marks for seaming (priOrSec = -99999999)
-- every source of each current frame set within adjacentFrameTolerance of a changed one, that
-- is of one holding sources not seamed yet or of one retired (deprecated = 2, which becomes 1),
-- unless both were written by the same merge call (same cuEventID): that call seamed the one
-- with the other's sources in its pool. cu8 runs it alone, after the merges of all ranges and
-- before their seams, so that every seam finds its own targets marked whatever order the others
-- run in. Returns the sources it marked (those not marked already).
CREATE FUNCTION curation.cu8_seam_mark(p_programme bigint) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    prog record;
    n bigint;
BEGIN
    SELECT programmeID, lower(sourceTable) AS sourceTable, lower(mergeLogTable) AS mergeLogTable, adjacentFrameTolerance
    INTO prog FROM Programme WHERE programmeID = p_programme;
    IF prog.programmeID IS NULL OR prog.sourceTable = 'none' THEN
        RAISE EXCEPTION 'cu8_seam_mark: programme % has no source table', p_programme;
    END IF;
    EXECUTE format($q$
        WITH changed AS (
            SELECT ml.ra, ml.dec, ml.cuEventID FROM %1$I ml
            WHERE ml.deprecated = 0 AND ml.frameSetID IN (SELECT s.frameSetID FROM %2$I s WHERE s.priOrSec = -99999999)
            UNION ALL
            SELECT ml.ra, ml.dec, NULL FROM %1$I ml WHERE ml.deprecated = 2),
        near AS (
            SELECT DISTINCT ml.frameSetID
            FROM changed c JOIN %1$I ml ON ml.deprecated = 0 AND q3c_join(c.ra, c.dec, ml.ra, ml.dec, %3$s)
            WHERE ml.cuEventID IS DISTINCT FROM c.cuEventID)
        UPDATE %2$I s SET priOrSec = -99999999
        FROM near WHERE s.frameSetID = near.frameSetID AND s.priOrSec <> -99999999
        $q$, prog.mergeLogTable, prog.sourceTable, prog.adjacentFrameTolerance);
    GET DIAGNOSTICS n = ROW_COUNT;
    EXECUTE format('UPDATE %I SET deprecated = 1 WHERE deprecated = 2', prog.mergeLogTable);
    RETURN n;
END $$;

-- The seaming that crosses ipix ranges, second part: seams the sources marked for it (priOrSec
-- = -99999999) of the current frame sets whose centre lies in the q3c ipix range [p_ipix_lo,
-- p_ipix_hi), reading the sources of every current frame set within adjacentFrameTolerance of
-- those, whatever their range (the overlap margin), by the rule of cu8_seam_pool. It updates no
-- source outside its range and reads no priOrSec, so seams of disjoint ranges can run at once.
-- Returns the sources seamed.
CREATE FUNCTION curation.cu8_seam(p_programme bigint, p_ipix_lo bigint, p_ipix_hi bigint)
    RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    prog record;
    s record;
    nbands text := '0';
    n bigint;
BEGIN
    SELECT programmeID, lower(sourceTable) AS sourceTable, lower(mergeLogTable) AS mergeLogTable, pairingCriterion,
           adjacentFrameTolerance
    INTO prog FROM Programme WHERE programmeID = p_programme;
    IF prog.programmeID IS NULL OR prog.sourceTable = 'none' THEN
        RAISE EXCEPTION 'cu8_seam: programme % has no source table', p_programme;
    END IF;
    IF p_ipix_lo IS NULL OR p_ipix_hi IS NULL OR p_ipix_lo >= p_ipix_hi THEN
        RAISE EXCEPTION USING ERRCODE = '22023',
            MESSAGE = format('cu8_seam: the ipix range [%s, %s) is empty', p_ipix_lo, p_ipix_hi);
    END IF;
    PERFORM curation.drop_cu8_scratch();
    EXECUTE format($q$
        CREATE TEMP TABLE _cu8_target ON COMMIT DROP AS
        SELECT ml.frameSetID, ml.ra, ml.dec FROM %1$I ml
        WHERE ml.deprecated = 0 AND ml.frameSetID IN (SELECT s.frameSetID FROM %2$I s WHERE s.priOrSec = -99999999)
          AND q3c_ang2ipix(ml.ra, ml.dec) >= %3$s AND q3c_ang2ipix(ml.ra, ml.dec) < %4$s
        $q$, prog.mergeLogTable, prog.sourceTable, p_ipix_lo, p_ipix_hi);
    IF NOT EXISTS (SELECT 1 FROM _cu8_target) THEN
        PERFORM curation.drop_cu8_scratch();
        RETURN 0;
    END IF;
    PERFORM set_config('work_mem', '256MB', true);
    FOR s IN SELECT * FROM curation.merge_slots(p_programme) LOOP
        nbands := nbands || format(' + CASE WHEN s.%I <> -99999999 THEN 1 ELSE 0 END', lower(s.prefix || 'SeqNum'));
    END LOOP;
    EXECUTE format($q$
        CREATE TEMP TABLE _cu8_pool ON COMMIT DROP AS
        WITH near AS (
            SELECT DISTINCT ml.frameSetID
            FROM _cu8_target t JOIN %1$I ml ON ml.deprecated = 0 AND q3c_join(t.ra, t.dec, ml.ra, ml.dec, %3$s))
        SELECT s.sourceID AS key, false AS isNew, s.frameSetID, s.ra, s.dec, %4$s AS nBands,
               q3c_dist(s.ra, s.dec, ml.ra, ml.dec) AS centreDist,
               (s.priOrSec = -99999999 AND s.frameSetID IN (SELECT t.frameSetID FROM _cu8_target t)) AS isTarget
        FROM near JOIN %1$I ml ON ml.frameSetID = near.frameSetID JOIN %2$I s ON s.frameSetID = near.frameSetID
        $q$, prog.mergeLogTable, prog.sourceTable, prog.adjacentFrameTolerance, nbands);
    PERFORM curation.cu8_seam_pool(prog.pairingCriterion);
    EXECUTE format('UPDATE %I s SET priOrSec = r.priOrSec FROM _cu8_seamed r WHERE s.sourceID = r.key', prog.sourceTable);
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM curation.drop_cu8_scratch();
    RETURN n;
END $$;

GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA curation TO wsa_reader;
